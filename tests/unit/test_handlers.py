"""Every action through the protocol, over the in-memory fakes."""

from __future__ import annotations

from typing import Any

from couchpay.domain.catalog import DEMO_CATALOG
from couchpay.domain.statuses import CardStatus, PurchaseStatus
from tests.shipping import ADDRESS
from tests.unit.conftest import Call
from tests.unit.fakes import DECLINE_ATTACH, DECLINE_CHARGE, THREE_DS, FakeGateway, MemoryStore

CART = [{"item_id": i.item_id, "price_cents": i.price_cents} for i in DEMO_CATALOG]


def save(call: Call, gateway: FakeGateway, kind: str = "4242", user: str = "u1", **kw: Any) -> str:
    reply = call(
        "create-payment-method", {"stripePayment": {"id": gateway.card(kind, **kw)}}, user=user
    )
    assert reply["action"] == "create-payment-method-resp-success", reply
    return str(reply["message"]["uuid"])


def test_get_items_lists_the_demo_catalog(call: Call) -> None:
    reply = call("get-items")
    assert reply["action"] == "get-items-resp-success"
    assert [i["priceCents"] for i in reply["message"]["items"]] == [2000, 5000, 10000]
    assert reply["message"]["items"][2]["shippingCents"] == 500
    assert reply["message"]["currency"] == "usd"
    assert reply["message"]["streamingRate"] == {"numerator": 1, "denominator": 10}
    assert reply["requestId"] == "r1"


def test_saved_card_is_in_the_wallet_as_default(call: Call, gateway: FakeGateway) -> None:
    first = call("create-payment-method", {"stripePayment": gateway.card(fingerprint="one")})
    assert first["message"]["isDefault"] is True
    second = call("create-payment-method", {"stripePayment": gateway.card(fingerprint="two")})
    assert second["message"]["isDefault"] is False
    card_id = first["message"]["uuid"]
    call("delete-credit-card", {"cardId": second["message"]["uuid"]})
    cards = call("get-user-credit-card")["message"]["cards"]
    assert [(c["id"], c["lastFour"], c["isDefault"], c["status"]) for c in cards] == [
        (card_id, "4242", True, "live")
    ]


def test_same_card_twice_is_stored_once(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    first = save(call, gateway, fingerprint="same")
    second = save(call, gateway, fingerprint="same")
    assert first == second
    assert len(store.cards) == 1


def test_renewed_card_refreshes_expiry_and_token(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    first = save(call, gateway, fingerprint="same", exp_year=2030)
    second = save(call, gateway, fingerprint="same", exp_year=2031)
    assert first == second
    assert store.cards[first].exp_year == 2031
    assert gateway.calls.count("detach") == 1


def test_declined_attach_stores_error_card_and_replies_error(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    reply = call("create-payment-method", {"stripePayment": gateway.card(DECLINE_ATTACH)})
    assert reply["action"] == "create-payment-method-resp-error"
    assert reply["message"]["code"] == "card_declined"
    assert [c.status for c in store.cards.values()] == [CardStatus.ERROR]
    assert call("get-user-credit-card")["message"]["cards"] == []


def test_failed_checks_store_fail_checks(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    reply = call("create-payment-method", {"stripePayment": gateway.card(checks_failed=True)})
    assert reply["message"]["code"] == "card_checks_failed"
    assert [c.status for c in store.cards.values()] == [CardStatus.FAIL_CHECKS]
    assert "attach" not in gateway.calls


def test_someone_elses_payment_method_is_refused(call: Call, gateway: FakeGateway) -> None:
    pm = gateway.card(customer_id="cus_other")
    reply = call("create-payment-method", {"stripePayment": pm})
    assert reply["message"]["code"] == "card_not_valid"


def test_delete_cancels_detaches_and_promotes_newest(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    first = save(call, gateway, fingerprint="a")
    second = save(call, gateway, fingerprint="b")
    reply = call("delete-credit-card", {"cardId": first})
    assert reply == {
        "action": "delete-credit-card-resp-success",
        "message": {"id": first, "active": False, "status": "cancelled"},
        "requestId": "r1",
    }
    assert store.cards[first].status is CardStatus.CANCELLED  # kept, never deleted
    assert store.users["u1"].default_card_id == second
    assert gateway.methods[store.cards[first].card_token][0].customer_id is None


def test_set_default(call: Call, gateway: FakeGateway) -> None:
    save(call, gateway, fingerprint="a")
    second = save(call, gateway, fingerprint="b")
    reply = call("set-default-card", {"cardId": second})
    assert reply["message"] == {"id": second, "isDefault": True}
    assert call("get-user-credit-card")["message"]["cards"][0]["id"] == second


def test_other_users_cards_cannot_be_touched(call: Call, gateway: FakeGateway) -> None:
    card_id = save(call, gateway, user="u2")
    for action in ("delete-credit-card", "set-default-card"):
        assert call(action, {"cardId": card_id})["message"]["code"] == "not_found"
    reply = call("purchase-request", {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS})
    assert reply["message"]["code"] == "card_not_valid"
    assert "pay" not in gateway.calls


def test_user_id_must_be_the_signed_in_user(call: Call) -> None:
    for field in ("userId", "cogId"):
        reply = call("get-user-purchases", {field: "u2"})
        assert reply["action"] == "view-purchases-resp-failure"
        assert reply["message"]["code"] == "unauthorized"
    assert call("get-user-purchases", {"userId": "u1", "cogId": "u1"})["action"] == (
        "view-purchases-resp-success"
    )


def test_purchase_charges_19200_once_and_replays(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    card_id = save(call, gateway)
    reply = call(
        "purchase-request",
        {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS},
        rid="buy-1",
    )
    assert reply["action"] == "purchase-request-resp-success"
    msg = reply["message"]
    assert (msg["totalCents"], msg["subtotalCents"], msg["streamingCostCents"]) == (
        19200,
        17000,
        1700,
    )
    assert msg["shippingCents"] == 500
    assert msg["card"] == {"brand": "visa", "lastFour": "4242"}
    again = call(
        "purchase-request",
        {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS},
        rid="buy-1",
    )
    assert again["message"] == msg
    assert gateway.calls.count("pay") == 1
    assert [p.status for p in store.purchases.values()] == [PurchaseStatus.SUCCEEDED]


def test_request_id_reused_for_another_cart_is_refused(call: Call, gateway: FakeGateway) -> None:
    card_id = save(call, gateway)
    call(
        "purchase-request",
        {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS},
        rid="buy-1",
    )
    reply = call(
        "purchase-request",
        {"cardId": card_id, "items": CART[:1], "shippingAddress": ADDRESS},
        rid="buy-1",
    )
    assert reply["message"]["code"] == "request_id_reused"
    assert gateway.calls.count("pay") == 1


def test_purchase_request_needs_a_request_id(svc: Any, gateway: FakeGateway, call: Call) -> None:
    import json

    from couchpay.wire.protocol import handle_frame

    card_id = save(call, gateway)
    frame = json.dumps(
        {
            "action": "purchase-request",
            "message": {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS},
        }
    )
    reply = handle_frame(svc, "u1", frame)
    assert reply["message"]["code"] == "bad_request"
    assert "pay" not in gateway.calls


def test_price_mismatch_and_unknown_item_change_nothing(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    card_id = save(call, gateway)
    cheap = [{**CART[0], "price_cents": 1}]
    assert call(
        "purchase-request", {"cardId": card_id, "items": cheap, "shippingAddress": ADDRESS}
    )["message"]["code"] == ("price_mismatch")
    unknown = [{"item_id": "nope", "price_cents": 1}]
    reply = call(
        "purchase-request",
        {"cardId": card_id, "items": unknown, "shippingAddress": ADDRESS},
        rid="r2",
    )
    assert reply["message"]["code"] == "item_unavailable"
    assert store.purchases == {}
    assert "pay" not in gateway.calls


def test_decline_settles_failed_with_stripes_code(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    card_id = save(call, gateway, DECLINE_CHARGE)
    reply = call("purchase-request", {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS})
    assert reply["action"] == "purchase-request-resp-failure"
    assert reply["message"]["code"] == "card_declined"
    (p,) = store.purchases.values()
    assert (p.status, p.failure_code, reply["message"]["transactionId"]) == (
        PurchaseStatus.FAILED,
        "card_declined",
        p.transaction_id,
    )


def test_three_d_secure_then_confirm(call: Call, gateway: FakeGateway, store: MemoryStore) -> None:
    card_id = save(call, gateway, THREE_DS)
    reply = call("purchase-request", {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS})
    assert reply["action"] == "get-payment-intent"
    tx = reply["message"]["transactionId"]
    assert reply["message"]["clientSecret"].endswith("_secret")
    early = call("confirm-purchase", {"transactionId": tx})
    assert early["message"]["code"] == "authentication_incomplete"
    gateway.complete_3ds(store.purchases[tx].payment_intent_id or "", success=True)
    done = call("confirm-purchase", {"transactionId": tx})
    assert done["action"] == "purchase-request-resp-success"
    assert done["message"]["totalCents"] == 19200
    assert call("confirm-purchase", {"transactionId": tx}, user="u2")["message"]["code"] == (
        "not_found"
    )


def test_three_d_secure_failed(call: Call, gateway: FakeGateway, store: MemoryStore) -> None:
    card_id = save(call, gateway, THREE_DS)
    tx = call("purchase-request", {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS})[
        "message"
    ]["transactionId"]
    gateway.complete_3ds(store.purchases[tx].payment_intent_id or "", success=False)
    reply = call("confirm-purchase", {"transactionId": tx})
    assert reply["action"] == "purchase-request-resp-failure"
    assert reply["message"]["code"] == "payment_intent_authentication_failure"
    assert store.purchases[tx].status is PurchaseStatus.FAILED


def test_stripe_down_leaves_the_record_pending_never_failed(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    card_id = save(call, gateway)
    gateway.down = True
    reply = call("purchase-request", {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS})
    assert reply["action"] == "purchase-request-resp-failure"
    assert reply["message"]["code"] == "payment_processing"
    assert [p.status for p in store.purchases.values()] == [PurchaseStatus.PENDING]


def test_one_off_card_is_not_saved_unless_asked(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    reply = call(
        "purchase-request",
        {"stripePayment": {"id": gateway.card()}, "items": CART, "shippingAddress": ADDRESS},
    )
    assert reply["action"] == "purchase-request-resp-success"
    assert store.cards == {}
    (p,) = store.purchases.values()
    assert p.card_id is None
    pm = gateway.card(fingerprint="keep")
    reply = call(
        "purchase-request",
        {"stripePayment": pm, "saveCard": True, "items": CART, "shippingAddress": ADDRESS},
        rid="r2",
    )
    assert reply["action"] == "purchase-request-resp-success"
    assert [c.card_token for c in store.cards.values()] == [pm]


def test_history_pages_newest_first(call: Call, gateway: FakeGateway) -> None:
    card_id = save(call, gateway)
    for n in range(5):
        call(
            "purchase-request",
            {"cardId": card_id, "items": CART[:1], "shippingAddress": ADDRESS},
            rid=f"r{n}",
        )
    first = call("get-user-purchases", {"limit": 2})["message"]
    assert len(first["purchases"]) == 2
    second = call("get-user-purchases", {"limit": 2, "cursor": first["nextCursor"]})["message"]
    third = call("get-user-purchases", {"limit": 2, "cursor": second["nextCursor"]})["message"]
    assert third["nextCursor"] is None
    ids = [p["transactionId"] for page in (first, second, third) for p in page["purchases"]]
    assert len(set(ids)) == 5
    assert call("get-user-purchases", user="u2")["message"]["purchases"] == []


def test_setup_intent_path(call: Call, gateway: FakeGateway) -> None:
    reply = call("create-setup-intent")
    assert reply == {
        "action": "get-setup-intent",
        "message": {"clientSecret": "seti_1_s"},
        "requestId": "r1",
    }
    gateway.card()  # pm_1, which the fake's succeeded SetupIntent names
    reply = call("create-payment-method", {"setupIntentId": "seti_1"})
    assert reply["action"] == "create-payment-method-resp-success"


def test_someone_elses_one_off_card_is_refused_before_stripe_is_touched(
    call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    pm = gateway.card(customer_id="cus_other")
    reply = call(
        "purchase-request", {"stripePayment": pm, "items": CART, "shippingAddress": ADDRESS}
    )
    assert reply["message"]["code"] == "card_not_valid"
    assert gateway.calls == ["get_payment_method"]  # a read, no customer created, no charge
    assert store.purchases == {}


def test_history_accepts_next_cursor_as_the_cursor_name(call: Call, gateway: FakeGateway) -> None:
    card_id = save(call, gateway)
    for n in range(3):
        call(
            "purchase-request",
            {"cardId": card_id, "items": CART[:1], "shippingAddress": ADDRESS},
            rid=f"r{n}",
        )
    first = call("get-user-purchases", {"limit": 2})["message"]
    second = call("get-user-purchases", {"limit": 2, "nextCursor": first["nextCursor"]})["message"]
    assert len(second["purchases"]) == 1
