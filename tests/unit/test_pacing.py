"""The shared line's pacing rule (GCRA), pure: evenly spaced slots in arrival order, busy past
the longest wait with nothing taken, a 429 pushes every later slot back, places from slots."""

from __future__ import annotations

import pytest

from couchpay.service.pacing import (
    PaceSettings,
    eta_seconds,
    from_stored,
    next_slot,
    position,
    pushed_back,
    to_stored,
)

RATE = PaceSettings(rate=4.0, max_wait_seconds=2.0, push_back_seconds=1.0)


def take_many(count: int, now: float, tat: float | None = None) -> list[float | None]:
    slots: list[float | None] = []
    for _ in range(count):
        taken = next_slot(tat, now, RATE)
        if taken is None:
            slots.append(None)
            continue
        slot, tat = taken
        slots.append(slot.at)
    return slots


def test_an_idle_line_sends_at_once_and_moves_one_interval() -> None:
    taken = next_slot(None, 100.0, RATE)
    assert taken is not None
    slot, tat = taken
    assert (slot.at, tat) == (100.0, 100.25)
    later = next_slot(50.0, 100.0, RATE)  # a shared time in the past is an idle line
    assert later is not None and later[0].at == 100.0


def test_a_burst_is_spread_evenly_in_arrival_order_then_busy() -> None:
    slots = take_many(12, 100.0)
    assert slots[:9] == [100.0 + n * 0.25 for n in range(9)]  # up to 2 s of waiting
    assert slots[9:] == [None, None, None]  # further than the longest wait: busy


def test_busy_takes_nothing() -> None:
    assert next_slot(103.0, 100.0, RATE) is None  # 3 s away, 2 allowed
    again = next_slot(103.0, 100.0, RATE, any_wait=True)  # a 429'd purchase always gets one
    assert again is not None and again[0].at == 103.0 and again[1] == 103.25


def test_a_429_pushes_the_shared_time_back_from_now_or_from_the_line() -> None:
    assert pushed_back(None, 100.0, RATE) == 101.0
    assert pushed_back(99.0, 100.0, RATE) == 101.0
    assert pushed_back(100.5, 100.0, RATE) == 101.5
    taken = next_slot(pushed_back(100.5, 100.0, RATE), 100.0, RATE)
    assert taken is not None and taken[0].at == 101.5  # the next taker waits longer


@pytest.mark.parametrize(
    ("slot_at", "now", "expected"),
    [
        (100.0, 100.0, 0),
        (99.0, 100.0, 0),
        (100.1, 100.0, 1),
        (100.25, 100.0, 1),
        (100.3, 100.0, 2),
        (102, 100, 8),
    ],
)
def test_position_counts_the_slots_ahead(slot_at: float, now: float, expected: int) -> None:
    assert position(slot_at, now, RATE.rate) == expected


def test_eta_is_whole_seconds_and_never_zero() -> None:
    assert eta_seconds(100.1, 100.0) == 1
    assert eta_seconds(102.5, 100.0) == 3
    assert eta_seconds(90.0, 100.0) == 1


def test_stored_times_are_exact_microseconds() -> None:
    assert to_stored(1_764_480_000.123456) == 1_764_480_000_123_456
    assert from_stored(to_stored(1_764_480_000.25)) == 1_764_480_000.25
    assert from_stored(None) is None
