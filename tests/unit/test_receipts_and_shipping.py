"""Issue 13 over the fakes: get-purchase, shipping addresses, the minimum charge, cards saved
only after a successful payment, and the receipt email."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from couchpay.domain.catalog import DEMO_CATALOG, CatalogItem, ItemKind
from couchpay.domain.shipping import ShippingAddress
from couchpay.service.context import Services
from couchpay.service.webhooks import handle_event
from couchpay.wire.protocol import handle_frame
from tests.shipping import ADDRESS
from tests.unit.conftest import Call
from tests.unit.fakes import DECLINE_ATTACH, DECLINE_CHARGE, THREE_DS, FakeGateway, MemoryStore
from tests.unit.test_exactly_once import event

STREAM, MEET, POSTER = DEMO_CATALOG
CART = [{"item_id": i.item_id, "price_cents": i.price_cents} for i in DEMO_CATALOG]
NO_SHIPPING = CART[:2]


def save(call: Call, gateway: FakeGateway, user: str = "u1") -> str:
    reply = call("create-payment-method", {"stripePayment": gateway.card()}, user=user)
    return str(reply["message"]["uuid"])


def wallet(call: Call, user: str = "u1") -> list[dict[str, Any]]:
    return list(call("get-user-credit-card", user=user)["message"]["cards"])


# get-purchase -------------------------------------------------------------------------------
def test_get_purchase_by_transaction_and_by_request(call: Call, gateway: FakeGateway) -> None:
    card = save(call, gateway)
    paid = call("purchase-request", {"cardId": card, "items": CART, "shippingAddress": ADDRESS})
    tx = paid["message"]["transactionId"]
    by_tx = call("get-purchase", {"transactionId": tx})
    assert by_tx["action"] == "get-purchase-resp-success"
    by_rid = call("get-purchase", {"requestId": "r1"}, rid="ask")
    assert by_rid["message"] == by_tx["message"]
    purchase = by_tx["message"]["purchase"]
    assert purchase["status"] == "succeeded" and purchase["totalCents"] == 19200
    assert purchase["shippingAddress"] == {**ADDRESS, "line2": None, "state": None}
    assert purchase["refundedCents"] == 0
    assert purchase["receiptEmail"] is None
    assert [line["shippingCents"] for line in purchase["items"]] == [0, 0, 500]
    history = call("get-user-purchases")["message"]["purchases"]
    assert history == [purchase]


def test_another_users_purchase_is_not_found(call: Call, gateway: FakeGateway) -> None:
    card = save(call, gateway)
    tx = call("purchase-request", {"cardId": card, "items": NO_SHIPPING}, rid="mine")["message"][
        "transactionId"
    ]
    for message in ({"transactionId": tx}, {"requestId": "mine"}, {"requestId": "never"}):
        reply = call("get-purchase", message, user="intruder")
        assert reply["action"] == "get-purchase-resp-failure"
        assert reply["message"]["code"] == "not_found"
        assert tx not in json.dumps(reply)


@pytest.mark.parametrize("message", [{}, {"transactionId": "a", "requestId": "b"}])
def test_get_purchase_needs_exactly_one_key(call: Call, message: dict[str, Any]) -> None:
    reply = call("get-purchase", message)
    assert (reply["action"], reply["message"]["code"]) == ("error", "bad_request")


# shipping -----------------------------------------------------------------------------------
def test_a_cart_that_ships_needs_an_address(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    card = save(call, gateway)
    reply = call("purchase-request", {"cardId": card, "items": CART})
    assert reply["action"] == "purchase-request-resp-failure"
    assert reply["message"]["code"] == "shipping_address_required"
    assert store.purchases == {} and "pay" not in gateway.calls
    fine = call("purchase-request", {"cardId": card, "items": NO_SHIPPING}, rid="r2")
    assert fine["action"] == "purchase-request-resp-success"
    assert gateway.pay_options[-1].shipping is None


def test_the_address_is_stored_and_sent_to_stripe(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    card = save(call, gateway)
    typed = {**ADDRESS, "name": "  Ada Lovelace ", "country": "gb", "line2": " ", "state": ""}
    reply = call("purchase-request", {"cardId": card, "items": CART, "shippingAddress": typed})
    assert reply["action"] == "purchase-request-resp-success"
    expected = ShippingAddress("Ada Lovelace", ADDRESS["line1"], "London", "SW1Y 4JH", "GB")
    assert store.purchases[reply["message"]["transactionId"]].shipping_address == expected
    assert gateway.pay_options == [replace(gateway.pay_options[0], shipping=expected)]
    assert expected.as_stripe()["address"] == {
        "line1": ADDRESS["line1"],
        "line2": "",
        "city": "London",
        "state": "",
        "postal_code": "SW1Y 4JH",
        "country": "GB",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"country": "XX"},
        {"country": "GBR"},
        {"country": ""},
        {"name": ""},
        {"name": "   "},
        {"line1": "x" * 201},
        {"postalCode": "1" * 21},
        {"city": None},
        {"unknown": "field"},
    ],
)
def test_a_bad_address_is_refused_and_changes_nothing(
    call: Call, gateway: FakeGateway, store: MemoryStore, change: dict[str, Any]
) -> None:
    card = save(call, gateway)
    address = {**ADDRESS, **change}
    reply = call("purchase-request", {"cardId": card, "items": CART, "shippingAddress": address})
    assert reply["message"]["code"] == "bad_request", reply
    assert store.purchases == {} and "pay" not in gateway.calls


def test_same_request_id_with_another_address_is_reused(call: Call, gateway: FakeGateway) -> None:
    card = save(call, gateway)
    first = call("purchase-request", {"cardId": card, "items": CART, "shippingAddress": ADDRESS})
    again = call("purchase-request", {"cardId": card, "items": CART, "shippingAddress": ADDRESS})
    assert again["message"] == first["message"]
    moved = {**ADDRESS, "line1": "221B Baker Street"}
    reply = call("purchase-request", {"cardId": card, "items": CART, "shippingAddress": moved})
    assert reply["message"]["code"] == "request_id_reused"
    assert gateway.calls.count("pay") == 1


# minimum charge -----------------------------------------------------------------------------
def test_a_total_under_the_minimum_is_refused_before_anything(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    store.put_item(CatalogItem("sticker", "Sticker", ItemKind.MERCH, 40))
    store.put_item(CatalogItem("badge", "Badge", ItemKind.MERCH, 46))
    pm = gateway.card()
    calls_before = list(gateway.calls)
    sticker = [{"item_id": "sticker", "price_cents": 40}]  # 40 + 4 = 44 cents
    reply = call("purchase-request", {"stripePayment": pm, "items": sticker})
    assert reply["message"]["code"] == "amount_too_small"
    assert "50" in reply["message"]["error"]
    assert store.purchases == {} and store.users == {} and gateway.calls == calls_before
    badge = [{"item_id": "badge", "price_cents": 46}]  # 46 + 5 = 51 cents
    ok = call("purchase-request", {"stripePayment": pm, "items": badge}, rid="r2")
    assert ok["action"] == "purchase-request-resp-success"


def test_the_minimum_is_per_currency(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    svc.pricing = replace(svc.pricing, currency="gbp")
    store.put_item(CatalogItem("pin", "Pin", ItemKind.MERCH, 28))  # 28 + 3 = 31 pence
    pin = [{"item_id": "pin", "price_cents": 28}]
    reply = call("purchase-request", {"stripePayment": gateway.card(), "items": pin})
    assert reply["action"] == "purchase-request-resp-success", reply


# saveCard -----------------------------------------------------------------------------------
def test_save_card_saves_only_after_success(call: Call, gateway: FakeGateway) -> None:
    pm = gateway.card(fingerprint="keep")
    reply = call("purchase-request", {"stripePayment": pm, "saveCard": True, "items": NO_SHIPPING})
    assert reply["action"] == "purchase-request-resp-success"
    assert gateway.pay_options[-1].save_for_later is True
    assert [c["lastFour"] for c in wallet(call)] == ["4242"]
    assert gateway.calls.index("pay") < gateway.calls.index("attach")


def test_a_declined_card_is_not_saved(call: Call, gateway: FakeGateway) -> None:
    pm = gateway.card(DECLINE_CHARGE)
    reply = call("purchase-request", {"stripePayment": pm, "saveCard": True, "items": NO_SHIPPING})
    assert reply["message"]["code"] == "card_declined"
    assert wallet(call) == [] and "attach" not in gateway.calls


def test_a_card_failing_3ds_is_not_saved_and_one_passing_is(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    for rid, success in (("fails", False), ("passes", True)):
        pm = gateway.card(THREE_DS, fingerprint=rid)
        message = {"stripePayment": pm, "saveCard": True, "items": NO_SHIPPING}
        needs = call("purchase-request", message, rid=rid)
        assert needs["action"] == "get-payment-intent"
        assert wallet(call) == []
        tx = needs["message"]["transactionId"]
        gateway.complete_3ds(store.purchases[tx].payment_intent_id or "", success=success)
        call("confirm-purchase", {"transactionId": tx})
    cards = wallet(call)
    assert len(cards) == 1
    assert [c.fingerprint for c in store.cards.values() if c.status.value == "live"] == ["passes"]


def test_a_card_that_cannot_be_kept_does_not_undo_the_payment(
    call: Call, gateway: FakeGateway
) -> None:
    pm = gateway.card(DECLINE_ATTACH)
    reply = call("purchase-request", {"stripePayment": pm, "saveCard": True, "items": NO_SHIPPING})
    assert reply["action"] == "purchase-request-resp-success"
    assert wallet(call) == []


def test_save_card_with_a_wallet_card_asks_stripe_for_nothing_more(
    call: Call, gateway: FakeGateway
) -> None:
    card = save(call, gateway)
    call("purchase-request", {"cardId": card, "saveCard": True, "items": NO_SHIPPING})
    assert gateway.pay_options[-1].save_for_later is False


# receipt email ------------------------------------------------------------------------------
def test_the_callers_email_goes_to_stripe_and_onto_the_record(
    svc: Services, gateway: FakeGateway, store: MemoryStore
) -> None:
    frame = json.dumps(
        {
            "action": "purchase-request",
            "requestId": "r1",
            "message": {"stripePayment": gateway.card(), "items": NO_SHIPPING},
        }
    )
    reply = handle_frame(svc.for_caller("ada@example.com"), "u1", frame)
    assert reply["action"] == "purchase-request-resp-success"
    assert gateway.pay_options[-1].receipt_email == "ada@example.com"
    tx = reply["message"]["transactionId"]
    assert store.purchases[tx].receipt_email == "ada@example.com"
    assert svc.caller_email is None  # the shared services are untouched


def test_a_3ds_purchase_settled_by_webhook_saves_the_card_once(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    pm = gateway.card(THREE_DS, fingerprint="webhook")
    message = {"stripePayment": pm, "saveCard": True, "items": NO_SHIPPING}
    tx = call("purchase-request", message)["message"]["transactionId"]
    pi = store.purchases[tx].payment_intent_id or ""
    gateway.complete_3ds(pi, success=True)
    handle_event(svc, event("payment_intent.succeeded", pi))
    handle_event(svc, event("payment_intent.succeeded", pi, n=2))  # delivered twice
    call("confirm-purchase", {"transactionId": tx})  # and the page confirms too
    assert [c["lastFour"] for c in wallet(call)] == [THREE_DS]
    assert gateway.calls.count("attach") == 1
