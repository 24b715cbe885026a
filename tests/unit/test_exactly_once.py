"""Webhooks, reconcile and refunds over the in-memory fakes: records only move forward, the user
is told once, nothing is charged or refunded twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from couchpay.domain.errors import BadRequest
from couchpay.domain.refunds import RefundStatus
from couchpay.domain.statuses import CardStatus, PaymentIntentStatus, PurchaseStatus
from couchpay.service.context import Services
from couchpay.service.reconcile import reconcile
from couchpay.service.refunds import refund_purchase
from couchpay.service.webhooks import WebhookEvent, handle_event
from couchpay.wire.push import PushNotifier
from tests.shipping import ADDRESS
from tests.unit.conftest import NOW, Call
from tests.unit.fakes import THREE_DS, FakeGateway, MemoryStore
from tests.unit.test_handlers import CART, save


class Recorder:
    """A transport that keeps what it was asked to send (the frames ``wire.push`` renders)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def notify(self, user_id: str, reply: dict[str, Any]) -> None:
        self.sent.append((user_id, reply))


@pytest.fixture
def pushes(svc: Services) -> Recorder:
    recorder = Recorder()
    svc.notifier = PushNotifier(recorder)
    return recorder


def event(kind: str, object_id: str, n: int = 1, **kw: Any) -> WebhookEvent:
    return WebhookEvent(f"evt_{kind}_{object_id}_{n}", kind, object_id, **kw)


def later(svc: Services, seconds: int = 1) -> None:
    """Move the test clock on, so what was just written counts as older."""
    svc.now = lambda: NOW + timedelta(seconds=seconds)


def three_ds_purchase(
    call: Call, gateway: FakeGateway, store: MemoryStore, rid: str = "r1"
) -> tuple[str, str]:
    card_id = save(call, gateway, THREE_DS)
    reply = call(
        "purchase-request", {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS}, rid=rid
    )
    tx = reply["message"]["transactionId"]
    return tx, store.purchases[tx].payment_intent_id or ""


def test_webhook_settles_once_and_tells_the_user_once(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore, pushes: Recorder
) -> None:
    tx, pi = three_ds_purchase(call, gateway, store)
    gateway.complete_3ds(pi, success=True)
    assert handle_event(svc, event("payment_intent.succeeded", pi)) == ("purchase succeeded", True)
    assert handle_event(svc, event("payment_intent.succeeded", pi)) == ("no change", False)
    assert store.purchases[tx].status is PurchaseStatus.SUCCEEDED
    assert [(u, r["action"], r["requestId"]) for u, r in pushes.sent] == [
        ("u1", "purchase-request-resp-success", "r1")
    ]
    # the client's confirm after the webhook gets the outcome and changes nothing
    reply = call("confirm-purchase", {"transactionId": tx})
    assert reply["action"] == "purchase-request-resp-success"
    assert len(pushes.sent) == 1


def test_out_of_order_events_never_move_a_record_backwards(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore, pushes: Recorder
) -> None:
    tx, pi = three_ds_purchase(call, gateway, store)
    gateway.complete_3ds(pi, success=True)
    handle_event(svc, event("payment_intent.succeeded", pi))
    # a late requires_action delivery: the object is re-read from Stripe, which says succeeded
    gateway.intents[pi] = replace(gateway.intents[pi], status=PaymentIntentStatus.REQUIRES_ACTION)
    handle_event(svc, event("payment_intent.requires_action", pi))
    assert store.purchases[tx].status is PurchaseStatus.SUCCEEDED
    assert len(pushes.sent) == 1


def test_events_for_someone_elses_payment_intent_are_ignored(svc: Services) -> None:
    gateway: FakeGateway = svc.gateway  # type: ignore[assignment]
    pm = gateway.card()
    intent = gateway.pay(
        amount_cents=5,
        currency="usd",
        customer_id=None,
        payment_method_id=pm,
        metadata={},
        idempotency_key="k",
    )
    assert handle_event(svc, event("payment_intent.succeeded", intent.id))[0] == "not ours"


def test_reconcile_finds_the_intent_by_metadata_when_its_id_was_never_stored(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore, pushes: Recorder
) -> None:
    card_id = save(call, gateway)
    gateway.down = True  # Stripe took the charge, but the answer was lost
    call("purchase-request", {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS})
    (p,) = store.purchases.values()
    gateway.down = False
    gateway.pay(
        amount_cents=p.total_cents,
        currency="usd",
        customer_id=None,
        payment_method_id=p.payment_method_id,
        metadata={"transaction_id": p.transaction_id},
        idempotency_key="k",
    )
    later(svc)
    summary = reconcile(svc, timedelta(0))
    assert summary.line() == (
        "examined 1: settled 1 (1 succeeded), unchanged 0, Stripe unreachable 0"
    )
    assert store.purchases[p.transaction_id].status is PurchaseStatus.SUCCEEDED
    assert store.purchases[p.transaction_id].payment_intent_id
    assert reconcile(svc, timedelta(0)).examined == 0  # idempotent
    assert [r["action"] for _, r in pushes.sent] == ["purchase-request-resp-success"]


def test_reconcile_fails_what_never_reached_stripe_and_charges_nothing(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    card_id = save(call, gateway)
    gateway.down = True
    call("purchase-request", {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS})
    gateway.down = False
    later(svc)
    assert reconcile(svc, timedelta(hours=1)).examined == 0  # too recent: maybe in flight
    summary = reconcile(svc, timedelta(0))
    assert summary.settled == {"failed": 1}
    (p,) = store.purchases.values()
    assert (p.status, p.failure_code) == (PurchaseStatus.FAILED, "not_charged")
    assert gateway.calls.count("pay") == 1  # the lost attempt only; reconcile never charges


def test_reconcile_leaves_an_unfinished_3ds_open_and_counts_stripe_down(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    tx, _ = three_ds_purchase(call, gateway, store)
    later(svc)
    assert reconcile(svc, timedelta(0)).unchanged == 1
    gateway.down = True
    assert reconcile(svc, timedelta(0)).unreachable == 1
    assert store.purchases[tx].status is PurchaseStatus.REQUIRES_ACTION


def paid(call: Call, gateway: FakeGateway, store: MemoryStore) -> str:
    card_id = save(call, gateway)
    call("purchase-request", {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS})
    (p,) = store.purchases.values()
    return p.transaction_id


def test_partial_then_full_refund_each_once(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    tx = paid(call, gateway, store)
    first = refund_purchase(svc, tx, 1200)
    assert (first.purchase.status, first.purchase.refunded_cents) == (
        PurchaseStatus.SUCCEEDED,
        1200,
    )
    again = refund_purchase(svc, tx, 1200)
    assert again.repeated and again.purchase.refunded_cents == 1200
    assert gateway.calls.count("refund") == 1
    rest = refund_purchase(svc, tx)
    assert rest.refund.amount_cents == 19200 - 1200
    assert (rest.purchase.status, rest.purchase.refunded_cents) == (PurchaseStatus.REFUNDED, 19200)
    assert [r.status for r in store.list_refunds(tx)] == [RefundStatus.SUCCEEDED] * 2


def test_refunds_that_cannot_be_are_refused_and_change_nothing(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    tx = paid(call, gateway, store)
    for amount in (0, -5, 19201):
        with pytest.raises(BadRequest, match="between 1 and 19200"):
            refund_purchase(svc, tx, amount)
    with pytest.raises(BadRequest, match="Only a paid purchase"):
        refund_purchase(svc, three_ds_purchase(call, gateway, store, "r2")[0], key="x")
    assert store.refunds == {} and "refund" not in gateway.calls


def test_charge_refunded_event_syncs_the_amount_from_stripe(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    tx = paid(call, gateway, store)
    pi = store.purchases[tx].payment_intent_id or ""
    gateway.refund(pi, 19200, "made-in-the-dashboard")
    outcome = handle_event(svc, event("charge.refunded", "ch_1", payment_intent_id=pi))
    assert outcome == ("purchase refunded", True)
    assert store.purchases[tx].refunded_cents == 19200


def test_detached_elsewhere_cancels_the_card_and_promotes_the_next(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    first = save(call, gateway, fingerprint="a")
    second = save(call, gateway, fingerprint="b")
    token = store.cards[first].card_token
    gateway.detach_payment_method(token)
    assert handle_event(svc, event("payment_method.detached", token))[0] == "1 card(s) cancelled"
    assert store.cards[first].status is CardStatus.CANCELLED
    assert store.users["u1"].default_card_id == second


def test_setup_intent_succeeded_saves_the_card_once(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    gateway.card()  # pm_1, named by the fake's succeeded SetupIntent
    store.ensure_user("u1", svc.now())
    store.set_stripe_customer("u1", "cus_u1")
    gateway.get_setup_intent = lambda seti_id: replace(  # type: ignore[method-assign]
        FakeGateway.get_setup_intent(gateway, seti_id), metadata={"user_id": "u1"}
    )
    handle_event(svc, event("setup_intent.succeeded", "seti_1"))
    handle_event(svc, event("setup_intent.succeeded", "seti_1", n=2))
    assert [c.card_token for c in store.cards.values()] == ["pm_1"]
