"""The shared line's parts and its slot-taking loop (SPEC "B′ — showtime" on AWS, where every
Lambda instance is its own process): the pacing rule (``pacing``) applied to one shared number
through the ``Pacer`` port's compare-and-set.

* ``take_slot``: read the shared time, compute the slot, swap; a lost race (another Lambda took a
  slot meanwhile) computes again from the winner's value. Every taker gets its own slot: two
  swaps from the same value cannot both succeed.
* ``push_back``: Stripe answered 429; the shared time moves back (``pacing.pushed_back``), by
  the same loop.
What a purchase does with its slot (wait for it here, or hand it to the worker) is
``shared_sending``'s. No I/O but the ports'."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from couchpay.ports.handoff import Handoff
from couchpay.ports.pacing import Pacer
from couchpay.service.pacing import (
    PaceSettings,
    Slot,
    from_stored,
    next_slot,
    pushed_back,
    to_stored,
)

KEY = "stripe-payment-intents"
"""One shared line per Stripe account (the table prefix is the stage's)."""
MAX_RACES = 200


class PacerContended(RuntimeError):
    """Lost the race for a slot ``MAX_RACES`` times in a row (never seen: each loss is another
    taker's win, so the line moves)."""


@dataclass(frozen=True)
class SharedLineSettings:
    pace: PaceSettings = field(default_factory=PaceSettings)
    wait_here_seconds: float = 20.0
    """The longest a request (or a worker) waits for its slot itself; further away, or when its
    time budget would not hold the wait and the Stripe call, the purchase goes to the worker."""
    stripe_reserve_seconds: float = 8.0
    """Time budget kept for the Stripe call after the wait (at most half of what is left)."""
    send_at_least_seconds: float = 2.0
    """A Stripe call is not started with less time than this left in the invocation's budget:
    the worker sends it instead."""
    tell_every_seconds: float = 3.0
    """A waiting fan hears their place at least this often."""
    handoff_lead_seconds: float = 2.0
    """A handed-off purchase reaches a worker this long before its slot (the queue's delay is
    whole seconds and its pollers are not instant); the worker waits the rest."""
    hop_seconds: float = 15.0
    """A purchase further away than this is handed on again after at most this long, so the
    worker can tell the fan their place as the slot approaches."""
    hold_grace_seconds: float = 120.0
    """The settlement pass leaves a ``queued`` or ``pending`` purchase to the line for
    ``max_wait_seconds`` plus this long; after that its worker is taken to be lost."""


@dataclass
class SharedLine:
    pacer: Pacer
    handoff: Handoff
    settings: SharedLineSettings = field(default_factory=SharedLineSettings)

    @property
    def pace(self) -> PaceSettings:
        return self.settings.pace


def take_slot(
    line: SharedLine, clock: Callable[[], float], *, any_wait: bool = False
) -> Slot | None:
    """This purchase's slot, or None (busy: it would wait longer than allowed; nothing taken)."""
    current = line.pacer.read(KEY)
    for _ in range(MAX_RACES):
        taken = next_slot(from_stored(current), clock(), line.pace, any_wait=any_wait)
        if taken is None:
            return None
        slot, tat = taken
        won, current = line.pacer.swap(KEY, current, to_stored(tat))
        if won:
            return slot
    raise PacerContended(f"no slot after {MAX_RACES} races")


def push_back(line: SharedLine, clock: Callable[[], float]) -> None:
    """Stripe said 429: every later slot, on every Lambda, comes later."""
    current = line.pacer.read(KEY)
    for _ in range(MAX_RACES):
        tat = pushed_back(from_stored(current), clock(), line.pace)
        won, current = line.pacer.swap(KEY, current, to_stored(tat))
        if won:
            return
    raise PacerContended(f"no push-back after {MAX_RACES} races")
