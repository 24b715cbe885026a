"""Showtime over the in-memory fakes, on a hand-driven clock: the line in front of Stripe, what
fans are told, 429s, limited items, busy, and settlement that needs no operator."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from couchpay.domain.catalog import CatalogItem, ItemKind
from couchpay.domain.statuses import PurchaseStatus
from couchpay.service import showtime
from couchpay.service.admission import Line, LineSettings
from couchpay.service.context import Services
from couchpay.wire.push import PushNotifier
from tests.unit.conftest import NOW, Call
from tests.unit.fakes import THREE_DS, FakeGateway, MemoryStore
from tests.unit.test_handlers import save

P = PurchaseStatus
QUEUED = "purchase-request-resp-queued"
STREAM = [{"item_id": "9f1c2a8e-1d51-4c55-9d1e-5a3c0f0b0001", "price_cents": 2000}]
MEET = CatalogItem("meet-1", "Meet and greet, row 1", ItemKind.MEET_AND_GREET, 5000, capacity=2)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Pushes:
    """A transport that keeps the frames it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def notify(self, user_id: str, frame: dict[str, Any]) -> None:
        self.sent.append((user_id, frame))

    def actions(self, request_id: str) -> list[str]:
        return [f["action"] for _, f in self.sent if f["requestId"] == request_id]


@pytest.fixture
def clock(svc: Services) -> Clock:
    clock = Clock()
    svc.clock = clock
    svc.line = Line(LineSettings(rate=1.0, max_length=5, max_wait_seconds=60, min_rate=0.1), clock)
    return clock


@pytest.fixture
def pushes(svc: Services) -> Pushes:
    recorder = Pushes()
    svc.notifier = PushNotifier(recorder)
    return recorder


def buy(call: Call, card: str, rid: str, user: str = "u1", items: Any = STREAM) -> dict[str, Any]:
    return call("purchase-request", {"cardId": card, "items": items}, rid=rid, user=user)


def next_in_line(svc: Services, clock: Clock) -> Any:
    assert svc.line is not None
    clock.now += 1.0
    entry, _ = svc.line.next_due()
    assert entry is not None
    return entry


def test_one_goes_at_once_the_next_waits_its_turn(
    call: Call, gateway: FakeGateway, svc: Services, clock: Clock, pushes: Pushes
) -> None:
    card = save(call, gateway)
    assert buy(call, card, "r1")["action"] == "purchase-request-resp-success"
    queued = buy(call, card, "r2")
    assert queued["action"] == "purchase-request-resp-queued"
    assert queued["message"]["position"] == 1 and queued["message"]["etaSeconds"] == 1
    tx = queued["message"]["transactionId"]
    assert svc.store.get_purchase(tx).status is P.QUEUED  # type: ignore[union-attr]
    assert gateway.calls.count("pay") == 1  # nothing charged while waiting

    again = buy(call, card, "r2")  # a reconnect re-sends it: same place, no second record
    assert again["action"] == "purchase-request-resp-queued"
    assert again["message"]["transactionId"] == tx and again["message"]["position"] == 1

    outcome = showtime.send(svc, next_in_line(svc, clock))
    assert outcome is not None and outcome.purchase.status is P.SUCCEEDED
    assert pushes.actions("r2") == ["purchase-request-resp-success"]
    assert gateway.calls.count("pay") == 2


def test_positions_are_pushed_as_the_line_moves(
    call: Call, gateway: FakeGateway, svc: Services, clock: Clock, pushes: Pushes
) -> None:
    card = save(call, gateway)
    buy(call, card, "r0")
    for n in range(1, 4):
        assert buy(call, card, f"r{n}")["message"]["position"] == n
    told = showtime.Told()
    assert showtime.tell_positions(svc, told) == 3
    assert showtime.tell_positions(svc, told) == 0  # nothing moved: nothing said
    showtime.send(svc, next_in_line(svc, clock))
    assert showtime.tell_positions(svc, told) == 2
    places = [f["message"]["position"] for _, f in pushes.sent if f["requestId"] == "r3"]
    assert places == [3, 2]


def test_a_429_goes_back_to_the_front_and_charges_once(
    call: Call, gateway: FakeGateway, svc: Services, clock: Clock, pushes: Pushes
) -> None:
    card = save(call, gateway)
    buy(call, card, "r0")
    tx = buy(call, card, "r1")["message"]["transactionId"]
    gateway.rate_limited = 1
    assert showtime.send(svc, next_in_line(svc, clock)) is None
    assert svc.line is not None and svc.line.ticket(tx) is not None
    assert svc.line.rate < 1.0
    assert pushes.actions("r1") == []  # the fan is not told anything went wrong
    clock.now += 5
    entry, _ = svc.line.next_due()
    assert entry is not None and entry.transaction_id == tx
    outcome = showtime.send(svc, entry)
    assert outcome is not None and outcome.purchase.status is P.SUCCEEDED
    assert len(gateway.intents) == 2


def test_a_full_line_is_busy_and_charges_nothing(
    call: Call, gateway: FakeGateway, svc: Services, clock: Clock, store: MemoryStore
) -> None:
    card = save(call, gateway)
    buy(call, card, "r0")
    for n in range(1, 6):
        assert buy(call, card, f"r{n}")["action"] == "purchase-request-resp-queued"
    refused = buy(call, card, "r6")
    assert refused["action"] == "purchase-request-resp-failure"
    assert refused["message"]["code"] == "busy" and refused["message"]["status"] == "failed"
    record = store.purchases[refused["message"]["transactionId"]]
    assert record.status is P.FAILED and record.failure_code == "busy"
    assert gateway.calls.count("pay") == 1


def test_waiting_too_long_is_busy(
    call: Call, gateway: FakeGateway, svc: Services, clock: Clock, pushes: Pushes
) -> None:
    card = save(call, gateway)
    buy(call, card, "r0")
    buy(call, card, "r1")
    clock.now += 61
    assert svc.line is not None
    for late in svc.line.expired():
        showtime.turn_away(svc, late)
    assert pushes.actions("r1") == ["purchase-request-resp-failure"]
    assert pushes.sent[-1][1]["message"]["code"] == "busy"


def test_limited_items_are_never_oversold_and_sold_out_is_said_before_stripe(
    call: Call, gateway: FakeGateway, svc: Services, store: MemoryStore
) -> None:
    store.put_item(MEET)
    line = [{"item_id": MEET.item_id, "price_cents": 5000}]
    cards = {u: save(call, gateway, user=u) for u in ("a", "b", "c")}
    assert buy(call, cards["a"], "ra", "a", line)["action"] == "purchase-request-resp-success"
    assert buy(call, cards["b"], "rb", "b", line)["action"] == "purchase-request-resp-success"
    items = {i["itemId"]: i for i in call("get-items")["message"]["items"]}
    assert items[MEET.item_id]["remaining"] == 0
    assert items["9f1c2a8e-1d51-4c55-9d1e-5a3c0f0b0001"]["remaining"] is None
    pays = gateway.calls.count("pay")
    sold_out = buy(call, cards["c"], "rc", "c", line)
    assert sold_out["message"]["code"] == "sold_out"
    assert gateway.calls.count("pay") == pays
    assert store.get_purchase_by_request("c", "rc") is None


def test_a_declined_or_abandoned_purchase_gives_its_slot_back(
    call: Call, gateway: FakeGateway, svc: Services, store: MemoryStore
) -> None:
    store.put_item(replace(MEET, capacity=1))
    line = [{"item_id": MEET.item_id, "price_cents": 5000}]
    three_ds = save(call, gateway, THREE_DS, user="a")
    assert buy(call, three_ds, "ra", "a", line)["action"] == "get-payment-intent"
    assert store.held_units() == {MEET.item_id: 1}
    svc.now = lambda: NOW + timedelta(minutes=20)  # the fan never finished 3-D Secure
    summary = showtime.settle_open(svc, showtime.SettleTimes())
    assert summary.settled == {"canceled": 1}
    assert store.held_units() == {MEET.item_id: 0}
    card = save(call, gateway, user="b")
    assert buy(call, card, "rb", "b", line)["action"] == "purchase-request-resp-success"


def test_settlement_fails_what_no_line_holds_and_keeps_what_it_holds(
    call: Call, gateway: FakeGateway, svc: Services, clock: Clock, store: MemoryStore
) -> None:
    card = save(call, gateway)
    buy(call, card, "r0")
    held = buy(call, card, "r1")["message"]["transactionId"]
    orphan = buy(call, card, "r2")["message"]["transactionId"]
    assert svc.line is not None
    svc.line.done(orphan)  # as if the process that queued it died
    svc.now = lambda: NOW + timedelta(minutes=10)
    summary = showtime.settle_open(svc, showtime.SettleTimes())
    assert summary.settled == {"failed": 1}
    assert store.purchases[orphan].failure_code == "not_charged"
    assert store.purchases[held].status is P.QUEUED
    assert gateway.calls.count("pay") == 1


def test_after_a_restart_the_queued_rejoin_in_order(
    call: Call, gateway: FakeGateway, svc: Services, clock: Clock, store: MemoryStore
) -> None:
    card = save(call, gateway)
    buy(call, card, "r0")
    txs = []
    for n in (1, 2, 3):
        svc.now = lambda n=n: NOW + timedelta(seconds=n)  # type: ignore[misc]
        txs.append(buy(call, card, f"r{n}")["message"]["transactionId"])
    svc.line = Line(LineSettings(rate=1.0, max_wait_seconds=60), clock)  # a new process
    assert showtime.reload(svc) == 3
    assert [e.transaction_id for e, _ in svc.line.tickets()] == txs
    again = buy(call, card, "r2")
    assert again["message"]["position"] == 2


def test_a_webhook_for_a_payment_our_line_has_with_stripe_costs_no_stripe_call(
    call: Call, gateway: FakeGateway, svc: Services, clock: Clock
) -> None:
    from couchpay.service.webhooks import WebhookEvent, handle_event

    card = save(call, gateway)
    buy(call, card, "r0")
    tx = buy(call, card, "r1")["message"]["transactionId"]
    entry = next_in_line(svc, clock)  # now with Stripe, not answered yet
    assert entry.transaction_id == tx
    before = len(gateway.calls)
    event = WebhookEvent("evt_1", "payment_intent.succeeded", "pi_x", transaction_id=tx)
    outcome, first = handle_event(svc, event)
    assert outcome.startswith("in flight here") and first
    assert len(gateway.calls) == before


def test_a_new_socket_hears_its_place_at_once(
    call: Call, gateway: FakeGateway, svc: Services, clock: Clock, pushes: Pushes
) -> None:
    card = save(call, gateway)
    buy(call, card, "r0")
    buy(call, card, "r1")
    other = save(call, gateway, user="u2")
    buy(call, other, "r2", user="u2")
    assert showtime.tell_user(svc, "u1") == 1
    [(user, frame)] = pushes.sent
    assert (user, frame["action"], frame["requestId"]) == ("u1", QUEUED, "r1")
    assert frame["message"]["position"] == 1
