"""The shared line's pacing rule (SPEC "B′ — showtime" on AWS), pure: GCRA, the generic cell rate
algorithm, over one number shared by every Lambda instance, the *theoretical arrival time*
(``tat``): the earliest moment the next purchase may go to Stripe.

* **Taking a slot.** A purchase arriving at ``now`` is sent at ``slot = max(tat, now)`` and moves
  the shared time to ``slot + 1/rate``. Each taker moves it by exactly one interval, so purchases
  go to Stripe evenly spaced, never more than ``rate`` a second, in the order they took their
  slots (arrival order). A slot later than ``now + max_wait`` is not taken: ``busy``, nothing
  changes.
* **A 429** moves the shared time back by ``push_back_seconds`` from ``max(tat, now)``: every
  later taker (on every Lambda) waits longer, so a Stripe that says "too many" sees fewer.
* **Where a fan stands** follows from the slot alone: ``position`` = the intervals still ahead,
  rounded up (1: next; 0: its slot came, with Stripe now), ``eta`` = whole seconds until the
  slot (at least 1).

Times are seconds since the epoch (floats): every Lambda shares the wall clock, not a monotonic
one. Stored times are whole microseconds (``to_stored``/``from_stored``), so a compare-and-set on
the stored number compares exactly. The read-compute-swap loop is ``shared_line.take_slot``; the
swap itself is an adapter's (``ports.pacing.Pacer``). This module does no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MICROS = 1_000_000


@dataclass(frozen=True)
class PaceSettings:
    rate: float = 20.0
    """Purchases sent to Stripe a second, by all Lambda instances together."""
    max_wait_seconds: float = 600.0
    """A fan whose slot is further away than this is ``busy`` (nothing taken, nothing charged)."""
    push_back_seconds: float = 1.0
    """How far a 429 moves the shared time back (Stripe counts requests in one-second windows)."""

    @property
    def interval(self) -> float:
        return 1.0 / self.rate


@dataclass(frozen=True)
class Slot:
    at: float
    """When the purchase may go to Stripe (epoch seconds)."""
    taken_at: float
    """When it was taken (epoch seconds)."""


def next_slot(
    tat: float | None, now: float, settings: PaceSettings, *, any_wait: bool = False
) -> tuple[Slot, float] | None:
    """The slot for a purchase arriving at ``now`` and the shared time after it; None when it
    would wait longer than ``max_wait_seconds`` (``any_wait``: a purchase Stripe refused with a
    429 takes its new slot however far it is, since it was already admitted)."""
    at = now if tat is None else max(tat, now)
    if not any_wait and at - now > settings.max_wait_seconds:
        return None
    return Slot(at, now), at + settings.interval


def pushed_back(tat: float | None, now: float, settings: PaceSettings) -> float:
    """The shared time after Stripe answered 429."""
    return (now if tat is None else max(tat, now)) + settings.push_back_seconds


def position(slot_at: float, now: float, rate: float) -> int:
    """1 when the purchase is next, more while slots are ahead of it; 0 once its slot came."""
    ahead = slot_at - now
    if ahead <= 0:
        return 0
    return max(1, math.ceil(ahead * rate - 1e-9))


def eta_seconds(slot_at: float, now: float) -> int:
    return max(1, math.ceil(slot_at - now))


def to_stored(seconds: float) -> int:
    return round(seconds * MICROS)


def from_stored(micros: int | None) -> float | None:
    return None if micros is None else micros / MICROS
