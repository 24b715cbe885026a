"""The admission line on a hand-driven clock: first come first served, never faster than the
rate, bounded in length and wait, slower after a 429 and back up after, positions only go down."""

from __future__ import annotations

import pytest

from couchpay.domain.errors import Busy
from couchpay.service.admission import Line, LineSettings, Ticket, Waiting


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fan(n: int, at: float = 0.0) -> Waiting:
    return Waiting(f"tx-{n}", f"fan-{n}", f"req-{n}", at)


def drain(line: Line, clock: Clock, seconds: float, step: float = 0.01) -> list[tuple[float, str]]:
    """Ask for the next purchase every ``step`` for ``seconds``; when each one left."""
    left = []
    for _ in range(round(seconds / step)):
        entry, _wait = line.next_due()
        if entry is not None:
            left.append((clock.now, entry.transaction_id))
            line.done(entry.transaction_id)
        clock.now += step
    return left


def test_first_come_first_served_at_the_rate() -> None:
    clock = Clock()
    line = Line(LineSettings(rate=10), clock)
    assert line.try_start("tx-direct")  # the one token: straight to Stripe
    line.done("tx-direct")
    tickets = [line.join(fan(n)) for n in range(30)]
    assert [t.position for t in tickets] == list(range(1, 31))
    assert tickets[-1].eta_seconds == 3
    left = drain(line, clock, 3.2)
    assert [tx for _, tx in left] == [f"tx-{n}" for n in range(30)]
    for second in (0, 1, 2):  # never more than the rate in any second
        assert sum(1 for t, _ in left if second <= t < second + 1) <= 10


def test_nobody_joins_a_line_too_long_or_too_slow() -> None:
    clock = Clock()
    full = Line(LineSettings(rate=10, max_length=3), clock)
    for n in range(3):
        full.join(fan(n))
    with pytest.raises(Busy):
        full.join(fan(3))
    slow = Line(LineSettings(rate=1, max_wait_seconds=5), clock)
    for n in range(5):
        slow.join(fan(n))
    with pytest.raises(Busy):
        slow.join(fan(5))  # would wait 6 s


def test_joining_again_keeps_the_place() -> None:
    line = Line(LineSettings(rate=1), Clock())
    for n in range(3):
        line.join(fan(n))
    assert line.join(fan(1)) == Ticket(2, 2)
    assert line.length() == 3


def test_waiting_too_long_leaves_the_line() -> None:
    clock = Clock()
    line = Line(LineSettings(rate=1, max_wait_seconds=10), clock)
    line.join(fan(1, at=0.0))
    clock.now = 5.0
    line.join(fan(2, at=5.0))
    clock.now = 10.5
    assert [e.transaction_id for e in line.expired()] == ["tx-1"]
    assert line.ticket("tx-2") == Ticket(1, 1)


def test_a_429_goes_back_to_the_front_and_slows_the_line() -> None:
    clock = Clock()
    line = Line(LineSettings(rate=10, slow_down=0.5, recover_per_second=1), clock)
    for n in range(3):
        line.join(fan(n))
    clock.now = 1.0
    first, _ = line.next_due()
    assert first is not None and first.transaction_id == "tx-0"
    line.busy_again(first)
    assert line.rate == 5.0
    assert line.ticket("tx-0") == Ticket(1, 1)
    clock.now = 1.5
    again, _ = line.next_due()
    assert again is not None and again.transaction_id == "tx-0"
    clock.now = 4.0
    line.next_due()
    assert line.rate == pytest.approx(8.0)  # climbing back, 1/s each second since the 429
    clock.now = 20.0
    line.next_due()
    assert line.rate == 10.0  # never above the configured rate


def test_positions_only_go_down() -> None:
    clock = Clock()
    line = Line(LineSettings(rate=5), clock)
    for n in range(20):
        line.join(fan(n))
    seen: dict[str, list[int]] = {}
    for _ in range(500):
        for entry, ticket in line.tickets():
            seen.setdefault(entry.transaction_id, []).append(ticket.position)
        entry, _ = line.next_due()
        if entry is not None:
            line.done(entry.transaction_id)
        clock.now += 0.01
    for positions in seen.values():
        assert positions == sorted(positions, reverse=True)
    assert line.length() == 0


def test_a_duplicate_that_watches_is_told() -> None:
    line = Line(LineSettings(rate=1), Clock())
    assert line.try_start("tx-1")
    line.watch("tx-1")
    assert line.ticket("tx-1") == Ticket(0, 1)
    assert line.done("tx-1") is True
    assert line.ticket("tx-1") is None
