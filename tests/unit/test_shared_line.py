"""The shared line (AWS) over the in-memory fakes, on a hand-driven wall clock: a burst is sent
evenly spaced in arrival order, waited for in the request when it fits and handed to the worker
when not, fans told their place, a 429 slows everyone and charges once, busy charges nothing,
settlement leaves the line's purchases alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.handoff import MemoryHandoff
from couchpay.ports.pacing import MemoryPacer
from couchpay.service import shared_sending, showtime
from couchpay.service.context import Services
from couchpay.service.pacing import PaceSettings
from couchpay.service.shared_line import KEY, SharedLine, SharedLineSettings
from couchpay.wire.push import PushNotifier
from tests.unit.conftest import NOW, Call
from tests.unit.fakes import FakeGateway
from tests.unit.test_handlers import save
from tests.unit.test_showtime import QUEUED, Pushes, buy

P = PurchaseStatus
SUCCESS = "purchase-request-resp-success"


class WallClock:
    """``svc.now`` and ``svc.sleep`` on one hand-driven clock; every Stripe call is noted."""

    def __init__(self) -> None:
        self.now = NOW
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)

    def epoch(self) -> float:
        return self.now.timestamp()


@pytest.fixture
def wall(svc: Services) -> WallClock:
    wall = WallClock()
    svc.now = lambda: wall.now
    svc.sleep = wall.sleep
    return wall


@pytest.fixture
def handoff() -> MemoryHandoff:
    return MemoryHandoff()


@pytest.fixture
def line(svc: Services, wall: WallClock, handoff: MemoryHandoff) -> SharedLine:
    settings = SharedLineSettings(
        pace=PaceSettings(rate=2.0, max_wait_seconds=10.0),
        wait_here_seconds=1.0,
        tell_every_seconds=0.5,
        handoff_lead_seconds=0.0,
        hop_seconds=4.0,
    )
    svc.shared_line = SharedLine(MemoryPacer(), handoff, settings)
    return svc.shared_line


@pytest.fixture
def pushes(svc: Services) -> Pushes:
    recorder = Pushes()
    svc.notifier = PushNotifier(recorder)
    return recorder


def places(pushes: Pushes, rid: str) -> list[int]:
    return [
        f["message"]["position"]
        for _, f in pushes.sent
        if f["requestId"] == rid and f["action"] == QUEUED
    ]


def work_due(svc: Services, handoff: MemoryHandoff, wall: WallClock) -> list[Any]:
    """Play the worker: deliver each handed-off purchase after its delay, in delivery order."""
    done = []
    while handoff.handed:
        batch = sorted(handoff.take_all(), key=lambda h: (h.delay_seconds, h.slot_at))
        for handed in batch:
            wall.now += timedelta(seconds=max(0.0, handed.slot_at - 0.5 - wall.epoch()))
            done.append(shared_sending.work(svc, handed.transaction_id, handed.slot_at))
    return done


def test_a_slot_within_reach_is_waited_for_here_with_the_fan_told(
    call: Call,
    gateway: FakeGateway,
    svc: Services,
    wall: WallClock,
    line: SharedLine,
    pushes: Pushes,
) -> None:
    card = save(call, gateway)
    first = buy(call, card, "r0")
    assert first["action"] == SUCCESS and wall.slept == []  # an idle line sends at once
    second = buy(call, card, "r1")  # 0.5 s away: this request waits for it itself
    assert second["action"] == SUCCESS
    assert places(pushes, "r1") == [1, 0]  # told its place at once, then "with Stripe"
    assert sum(wall.slept) == pytest.approx(0.5)
    assert gateway.calls.count("pay") == 2


def test_a_burst_beyond_reach_goes_to_the_worker_and_is_sent_in_order(
    call: Call,
    gateway: FakeGateway,
    svc: Services,
    wall: WallClock,
    line: SharedLine,
    handoff: MemoryHandoff,
    pushes: Pushes,
) -> None:
    card = save(call, gateway)
    line.pacer.swap(KEY, None, round((wall.epoch() + 1.5) * 1_000_000))  # others are ahead
    burst = [buy(call, card, f"r{n}") for n in range(5)]  # all in the same instant
    assert [r["action"] for r in burst] == [QUEUED] * 5
    assert [r["message"]["position"] for r in burst] == [3, 4, 5, 6, 7]
    handed = [h.transaction_id for h in handoff.handed]
    assert handed == [r["message"]["transactionId"] for r in burst]
    assert gateway.calls.count("pay") == 0  # nothing charged while handed off

    outcomes = work_due(svc, handoff, wall)
    assert [o.purchase.status for o in outcomes] == [P.SUCCEEDED] * 5
    for n in range(5):
        assert pushes.actions(f"r{n}")[-1] == SUCCESS  # the worker pushed the outcome
        assert places(pushes, f"r{n}")[-1] == 0
    paid = [i.metadata["transaction_id"] for i in gateway.intents.values()]
    assert paid == handed  # sent in the order they arrived, each once


def test_a_far_slot_hops_so_the_fan_hears_the_place_as_it_nears(
    call: Call,
    gateway: FakeGateway,
    svc: Services,
    wall: WallClock,
    line: SharedLine,
    handoff: MemoryHandoff,
    pushes: Pushes,
) -> None:
    card = save(call, gateway)
    line.pacer.swap(KEY, None, round((wall.epoch() + 9.0) * 1_000_000))  # 9 s of line ahead
    queued = buy(call, card, "far")
    assert queued["action"] == QUEUED and queued["message"]["etaSeconds"] == 9
    assert [h.delay_seconds for h in handoff.handed] == [4]  # at most one hop at a time
    while handoff.handed:
        handed = handoff.take_all()[0]
        wall.now += timedelta(seconds=handed.delay_seconds)
        shared_sending.work(svc, handed.transaction_id, handed.slot_at)
    seen = places(pushes, "far")
    assert seen == sorted(seen, reverse=True) and seen[-1] == 0 and len(seen) >= 3
    assert pushes.actions("far")[-1] == SUCCESS and gateway.calls.count("pay") == 1


def test_too_long_a_wait_is_busy_and_takes_no_slot(
    call: Call, gateway: FakeGateway, svc: Services, wall: WallClock, line: SharedLine
) -> None:
    card = save(call, gateway)
    line.pacer.swap(KEY, None, round((wall.epoch() + 30.0) * 1_000_000))
    before = line.pacer.read(KEY)
    busy = buy(call, card, "late")
    assert busy["action"] == "purchase-request-resp-failure"
    assert busy["message"]["code"] == "busy"
    tx = busy["message"]["transactionId"]
    assert svc.store.get_purchase(tx).status is P.FAILED  # type: ignore[union-attr]
    assert line.pacer.read(KEY) == before and gateway.calls.count("pay") == 0


def test_a_refused_handoff_is_busy_with_nothing_charged(
    call: Call,
    gateway: FakeGateway,
    svc: Services,
    wall: WallClock,
    line: SharedLine,
    handoff: MemoryHandoff,
) -> None:
    card = save(call, gateway)
    line.pacer.swap(KEY, None, round((wall.epoch() + 5.0) * 1_000_000))
    handoff.refuse = True
    reply = buy(call, card, "r1")
    assert reply["message"]["code"] == "busy" and gateway.calls.count("pay") == 0


def test_a_429_pushes_everyone_back_and_the_purchase_is_charged_once(
    call: Call,
    gateway: FakeGateway,
    svc: Services,
    wall: WallClock,
    line: SharedLine,
    handoff: MemoryHandoff,
    pushes: Pushes,
) -> None:
    card = save(call, gateway)
    gateway.rate_limited = 1
    start = wall.epoch()
    reply = buy(call, card, "r1")  # sent at once: 429; the line is pushed back by 1 s
    assert reply["action"] == QUEUED  # its new slot is 1.5 s away: the worker's
    assert reply["message"]["transactionId"] == handoff.handed[0].transaction_id
    assert handoff.handed[0].slot_at == pytest.approx(start + 1.5)
    stored = line.pacer.read(KEY)
    assert stored is not None and stored / 1e6 == pytest.approx(start + 2.0)
    next_one = buy(call, card, "r2")  # every later fan waits behind the push-back
    assert next_one["message"]["etaSeconds"] == 2
    outcomes = work_due(svc, handoff, wall)
    assert [o.purchase.status for o in outcomes] == [P.SUCCEEDED] * 2
    assert pushes.actions("r1")[-1] == SUCCESS
    assert gateway.calls.count("pay") == 3 and len(gateway.intents) == 2  # r1 charged once


def test_a_second_delivery_of_a_sent_purchase_does_nothing(
    call: Call,
    gateway: FakeGateway,
    svc: Services,
    wall: WallClock,
    line: SharedLine,
    handoff: MemoryHandoff,
) -> None:
    card = save(call, gateway)
    line.pacer.swap(KEY, None, round((wall.epoch() + 3.0) * 1_000_000))
    buy(call, card, "r1")
    handed = handoff.take_all()[0]
    wall.now += timedelta(seconds=3)
    assert shared_sending.work(svc, handed.transaction_id, handed.slot_at) is not None
    assert shared_sending.work(svc, handed.transaction_id, handed.slot_at) is None
    assert gateway.calls.count("pay") == 1


def test_settlement_leaves_the_lines_purchases_and_takes_the_lost_ones(
    call: Call,
    gateway: FakeGateway,
    svc: Services,
    wall: WallClock,
    line: SharedLine,
    handoff: MemoryHandoff,
) -> None:
    card = save(call, gateway)
    line.pacer.swap(KEY, None, round((wall.epoch() + 5.0) * 1_000_000))
    tx = buy(call, card, "r1")["message"]["transactionId"]
    handoff.take_all()  # the message is lost
    times = showtime.SettleTimes(pending_after=timedelta(0), abandon_after=timedelta(0))
    wall.now += timedelta(seconds=60)
    showtime.settle_open(svc, times)
    assert svc.store.get_purchase(tx).status is P.QUEUED  # type: ignore[union-attr]
    wall.now += timedelta(seconds=line.pace.max_wait_seconds + 121)
    showtime.settle_open(svc, times)
    settled = svc.store.get_purchase(tx)
    assert settled is not None and settled.status is P.FAILED
    assert settled.failure_code == "not_charged" and gateway.calls.count("pay") == 0
