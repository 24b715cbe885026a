"""The Pacer port's contract (the shared line's compare-and-set), on the in-memory adapter and on
DynamoDB (Amazon's DynamoDB Local, and moto): a swap stores only over the value it expected and
otherwise hands back what is there; concurrent takers of the shared line never get the same slot
and together move it by exactly one interval each; a 429's push-back moves every later slot."""

from __future__ import annotations

import pytest

from couchpay.adapters.dynamodb_pacer import DynamoDbPacer
from couchpay.ports.handoff import MemoryHandoff
from couchpay.ports.pacing import MemoryPacer, Pacer
from couchpay.service.pacing import PaceSettings, to_stored
from couchpay.service.shared_line import KEY, SharedLine, SharedLineSettings, push_back, take_slot
from tests.contract.store_contract import at_once

NOW = 1_764_480_000.0
TAKERS = 16


@pytest.fixture(params=["memory", "dynamodb-local", "dynamodb-moto"])
def pacer(request: pytest.FixtureRequest) -> Pacer:
    if request.param == "memory":
        return MemoryPacer()
    server = request.getfixturevalue(request.param.replace("-", "_", 1))
    return DynamoDbPacer(server.fresh_store())


def line_on(pacer: Pacer, rate: float = 10.0, max_wait: float = 600.0) -> SharedLine:
    pace = PaceSettings(rate=rate, max_wait_seconds=max_wait, push_back_seconds=1.0)
    return SharedLine(pacer, MemoryHandoff(), SharedLineSettings(pace=pace))


def test_swap_stores_only_over_what_it_expected(pacer: Pacer) -> None:
    assert pacer.read("k") is None
    assert pacer.swap("k", 5, 6) == (False, None)  # nothing there yet
    assert pacer.swap("k", None, 10) == (True, 10)
    assert pacer.swap("k", None, 11) == (False, 10)  # lost: told what is there now
    assert pacer.swap("k", 9, 11) == (False, 10)
    assert pacer.swap("k", 10, 12) == (True, 12)
    assert pacer.read("k") == 12
    assert pacer.read("other") is None  # keys are separate


def test_concurrent_takers_never_get_the_same_slot(pacer: Pacer) -> None:
    line = line_on(pacer)
    slots = at_once(TAKERS, lambda _: take_slot(line, lambda: NOW))
    taken = sorted(s.at for s in slots if s is not None)
    assert len(taken) == TAKERS
    assert taken == [NOW + n / 10 for n in range(TAKERS)]  # one interval apart, none twice
    assert pacer.read(KEY) == to_stored(NOW + TAKERS / 10)


def test_takers_past_the_longest_wait_are_busy_and_take_nothing(pacer: Pacer) -> None:
    line = line_on(pacer, rate=10.0, max_wait=0.45)
    slots = at_once(8, lambda _: take_slot(line, lambda: NOW))
    assert sorted(s.at for s in slots if s is not None) == [NOW + n / 10 for n in range(5)]
    assert slots.count(None) == 3
    assert pacer.read(KEY) == to_stored(NOW + 0.5)


def test_a_429_pushes_every_later_slot_back(pacer: Pacer) -> None:
    line = line_on(pacer)
    first = take_slot(line, lambda: NOW)
    assert first is not None and first.at == NOW
    at_once(4, lambda _: push_back(line, lambda: NOW))  # four Lambdas heard 429 at once
    later = take_slot(line, lambda: NOW)
    assert later is not None and later.at == NOW + 0.1 + 4.0  # each push-back counted once
