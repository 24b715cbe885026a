"""The admission line in front of Stripe (SPEC "B′ — showtime").

Stripe takes about 25 PaymentIntents a second and answers more with HTTP 429. The line turns a
burst of purchases into a steady stream at the rate Stripe accepts:

* **Order.** First come, first served: purchases leave the line in the order they joined; one
  that Stripe refused with a 429 goes back to the front (and is sent again with the same
  idempotency key).
* **Rate.** A token bucket refilled at ``rate`` per second, holding at most ``burst`` tokens:
  never more than ``rate`` a second on average, so Stripe's limit is met without 429s. A 429
  slows the line down (the rate is multiplied by ``slow_down``, never below ``min_rate``) and the
  rate climbs back by ``recover_per_second`` each second without one (AIMD, as TCP does).
* **Bounds.** At most ``max_length`` waiting; nobody joins whose wait would exceed
  ``max_wait_seconds`` (``Busy``), and anybody still waiting past it leaves (``expired``): the
  caller settles them ``busy``, nothing charged.
* **Owners.** The line holds transaction ids only, in memory; the records are in the store
  (``queued``), so a process that dies loses no purchase: settlement sends or fails them.

Thread-safe; no I/O, no sleeping: the caller waits (on an event loop, never in a worker thread).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from couchpay.domain.errors import Busy

CARRY = 0.5


@dataclass(frozen=True)
class LineSettings:
    rate: float = 20.0
    """Purchases sent to Stripe per second."""
    burst: float = 1.0
    """Purchases that may go at once after a pause. 1: evenly spaced, so a window of Stripe's
    never sees more than the rate (measured: 2 keeps up better when the runner wakes late, but
    draws 429s from a limit of 25/s at 24/s)."""
    max_length: int = 10_000
    max_wait_seconds: float = 600.0
    min_rate: float = 1.0
    slow_down: float = 0.9
    recover_per_second: float = 2.0


@dataclass(frozen=True)
class Waiting:
    transaction_id: str
    user_id: str
    request_id: str
    joined_at: float


@dataclass(frozen=True)
class Ticket:
    position: int
    """1 is next; 0 means it is with Stripe now."""
    eta_seconds: int


class Line:
    def __init__(self, settings: LineSettings, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: OrderedDict[str, Waiting] = OrderedDict()
        self._in_flight: set[str] = set()
        self._watched: set[str] = set()
        self._rate = settings.rate
        self._tokens = settings.burst
        self._last = clock()

    # the bucket ----------------------------------------------------------------------------
    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._last)
        self._last = now
        # Half a token past the burst is kept: a runner that wakes late sends the next one
        # sooner (never two closer than half an interval), so lateness costs no rate.
        self._tokens = min(self.settings.burst + CARRY, self._tokens + elapsed * self._rate)
        self._rate = min(
            self.settings.rate, self._rate + elapsed * self.settings.recover_per_second
        )

    def _take(self, now: float) -> bool:
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def _floor(self) -> float:
        """The slowest the line goes: ``min_rate``, or the configured rate if that is lower."""
        return min(self.settings.min_rate, self.settings.rate)

    # joining -------------------------------------------------------------------------------
    def try_start(self, transaction_id: str) -> bool:
        """Go to Stripe now, if nobody is waiting and the rate allows it."""
        with self._lock:
            if self._waiting or not self._take(self._clock()):
                return False
            self._in_flight.add(transaction_id)
            return True

    def join(self, entry: Waiting) -> Ticket:
        """Wait at the back (or keep one's place when already in). Busy when the line is full or
        the wait would be longer than allowed."""
        with self._lock:
            if entry.transaction_id in self._waiting or entry.transaction_id in self._in_flight:
                return self._ticket(entry.transaction_id)
            position = len(self._waiting) + 1
            if position > self.settings.max_length:
                raise Busy()
            if self._eta(position) > self.settings.max_wait_seconds:
                raise Busy()
            self._waiting[entry.transaction_id] = entry
            return self._ticket(entry.transaction_id)

    def ticket(self, transaction_id: str) -> Ticket | None:
        """Where a purchase stands; None when this line does not know it."""
        with self._lock:
            if transaction_id not in self._waiting and transaction_id not in self._in_flight:
                return None
            return self._ticket(transaction_id)

    def _ticket(self, transaction_id: str) -> Ticket:
        if transaction_id in self._in_flight:
            return Ticket(0, 1)
        position = list(self._waiting).index(transaction_id) + 1
        return Ticket(position, self._eta(position))

    def _eta(self, position: int) -> int:
        return max(1, math.ceil(position / max(self._rate, self._floor)))

    def in_flight_now(self, transaction_id: str) -> bool:
        """With Stripe right now (sent by this line, not answered yet)."""
        with self._lock:
            return transaction_id in self._in_flight

    def tickets(self) -> list[tuple[Waiting, Ticket]]:
        """Everyone waiting, in order, with their place."""
        with self._lock:
            return [
                (entry, Ticket(n, self._eta(n)))
                for n, entry in enumerate(self._waiting.values(), start=1)
            ]

    # leaving -------------------------------------------------------------------------------
    def next_due(self) -> tuple[Waiting | None, float]:
        """The purchase to send now (it is then in flight), or None and how long until one may
        go."""
        with self._lock:
            if not self._waiting:
                return None, 0.25
            now = self._clock()
            if not self._take(now):
                return None, max(0.001, (1.0 - self._tokens) / self._rate)
            _, entry = self._waiting.popitem(last=False)
            self._in_flight.add(entry.transaction_id)
            return entry, 0.0

    def expired(self) -> list[Waiting]:
        """Remove and return everyone who has waited longer than allowed."""
        with self._lock:
            limit = self._clock() - self.settings.max_wait_seconds
            gone = [e for e in self._waiting.values() if e.joined_at < limit]
            for entry in gone:
                del self._waiting[entry.transaction_id]
            return gone

    def busy_again(self, entry: Waiting) -> None:
        """Stripe answered 429: back to the front, and slow down."""
        with self._lock:
            self._in_flight.discard(entry.transaction_id)
            self._waiting[entry.transaction_id] = entry
            self._waiting.move_to_end(entry.transaction_id, last=False)
            self._refill(self._clock())
            self._rate = max(self._floor, self._rate * self.settings.slow_down)
            self._tokens = min(self._tokens, 0.0)

    def watch(self, transaction_id: str) -> Ticket | None:
        """Where a purchase stands, for a copy of its request that will wait for it: its outcome
        is then pushed when it is done (``done`` says so). None, and no watch, when this line
        does not hold it (any more)."""
        with self._lock:
            if transaction_id not in self._waiting and transaction_id not in self._in_flight:
                return None
            self._watched.add(transaction_id)
            return self._ticket(transaction_id)

    def done(self, transaction_id: str) -> bool:
        """The purchase left Stripe's hands; True if somebody is waiting to be told."""
        with self._lock:
            self._in_flight.discard(transaction_id)
            self._waiting.pop(transaction_id, None)
            watched = transaction_id in self._watched
            self._watched.discard(transaction_id)
            return watched

    # figures -------------------------------------------------------------------------------
    def length(self) -> int:
        with self._lock:
            return len(self._waiting)

    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def oldest_wait(self) -> float:
        with self._lock:
            first = next(iter(self._waiting.values()), None)
            return 0.0 if first is None else max(0.0, self._clock() - first.joined_at)
