"""How long the work in hand may still take: a deadline for the current call, or none.

A Lambda handler sets one from ``context.get_remaining_time_in_millis()`` (less the margin it
needs to reply) with ``within(seconds)``; whatever runs inside reads ``remaining()``: the Stripe
gateway sizes each attempt's timeout and decides whether to retry from it, and a duplicate
purchase waits for the first one no longer than it. Outside ``within`` (``couchpay serve``, the
operator commands) there is no deadline and ``remaining()`` is None.

The deadline lives in a ``ContextVar`` (per thread, per task): one invocation's budget never
leaks into another's. Time is ``time.monotonic``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("couchpay_deadline", default=None)


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Run the block with ``seconds`` from now as its deadline (an outer, earlier one stays)."""
    deadline = time.monotonic() + max(0.0, seconds)
    outer = _deadline.get()
    token = _deadline.set(deadline if outer is None else min(outer, deadline))
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the deadline (never negative), or None without one."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def capped(seconds: float) -> float:
    """``seconds``, or what is left if that is less."""
    left = remaining()
    return seconds if left is None else min(seconds, left)
