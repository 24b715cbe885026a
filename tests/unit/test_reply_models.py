"""Real replies, made by the real handlers over the in-memory fakes, checked against
reply_models (extra keys forbidden, every key required, strict types, as JSON on the wire).

If a reply changes shape without its model (or the reverse), this fails; the AsyncAPI document
is generated from those models, so it cannot drift from what the server sends either."""

from __future__ import annotations

import json
from typing import Any

import pytest

from couchpay.domain.catalog import DEMO_CATALOG
from couchpay.service.admission import Line, LineSettings
from couchpay.service.context import Services
from couchpay.wire.asyncapi.checks import validate_reply
from couchpay.wire.protocol import handle_frame
from couchpay.wire.replies import (
    ERROR_ACTION,
    REPLY_MODELS,
    SUCCESS_REPLIES,
    Failure,
    PurchaseOutcomeFailure,
)
from couchpay.wire.routes import ROUTES
from tests.shipping import ADDRESS
from tests.unit.conftest import Call
from tests.unit.fakes import DECLINE_CHARGE, THREE_DS, FakeGateway, MemoryStore

CART = [{"item_id": i.item_id, "price_cents": i.price_cents} for i in DEMO_CATALOG]


def every_kind_of_reply(
    call: Call, svc: Services, gateway: FakeGateway, store: MemoryStore
) -> list[tuple[str, dict[str, Any]]]:
    """(request action, reply envelope) for each success and failure shape there is."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def send(action: str, message: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        reply = call(action, message, **kw)
        seen.append((action, reply))
        return reply

    send("get-items")
    send("create-setup-intent")
    card_id = send("create-payment-method", {"stripePayment": {"id": gateway.card()}})["message"][
        "uuid"
    ]
    other = send("create-payment-method", {"stripePayment": gateway.card(fingerprint="two")})
    send("create-payment-method", {"stripePayment": "pm_unknown"})
    send("get-user-credit-card")
    send("get-user-credit-card", {"userId": "someone-else"})
    send("set-default-card", {"cardId": other["message"]["uuid"]})
    send("set-default-card", {"cardId": "nope"})
    send("delete-credit-card", {"cardId": other["message"]["uuid"]})
    send("delete-credit-card", {"cardId": "nope"})

    paid = send(
        "purchase-request",
        {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS},
        rid="buy-1",
    )
    assert paid["action"] == "purchase-request-resp-success"
    send(
        "purchase-request",
        {"cardId": card_id, "items": CART[:1], "shippingAddress": ADDRESS},
        rid="buy-1",
    )  # reused
    wrong_price = [{**CART[0], "price_cents": 1}]
    send(
        "purchase-request",
        {"cardId": card_id, "items": wrong_price, "shippingAddress": ADDRESS},
        rid="buy-2",
    )
    declined = gateway.card(DECLINE_CHARGE)
    send(
        "purchase-request",
        {"stripePayment": declined, "items": CART, "shippingAddress": ADDRESS},
        rid="buy-3",
    )
    three_ds = gateway.card(THREE_DS)
    needs = send(
        "purchase-request",
        {"stripePayment": three_ds, "items": CART, "shippingAddress": ADDRESS},
        rid="buy-4",
    )
    assert needs["action"] == "get-payment-intent"
    tx = needs["message"]["transactionId"]
    send("confirm-purchase", {"transactionId": tx})  # not finished yet
    gateway.complete_3ds(store.purchases[tx].payment_intent_id or "", success=True)
    send("confirm-purchase", {"transactionId": tx})
    send("confirm-purchase", {"transactionId": "nope"})
    send("get-purchase", {"transactionId": tx})
    send("get-purchase", {"requestId": "buy-1"})
    send("get-purchase", {"requestId": "never-sent"})
    gateway.down = True
    send(
        "purchase-request",
        {"cardId": card_id, "items": CART, "shippingAddress": ADDRESS},
        rid="buy-5",
    )  # pending
    gateway.down = False
    svc.line = Line(LineSettings(rate=1.0), clock=lambda: 0.0)  # one purchase a second, frozen
    send("purchase-request", {"cardId": card_id, "items": CART[:1]}, rid="line-1")  # goes now
    queued = send("purchase-request", {"cardId": card_id, "items": CART[:1]}, rid="line-2")
    assert queued["action"] == "purchase-request-resp-queued"
    svc.line = None

    send("get-user-purchases", {"limit": 2})
    send("get-user-purchases", {"limit": 2, "cursor": "not-a-cursor"})
    send("get-user-entitlements", {"limit": 2})
    send("get-user-entitlements", {"cursor": "not-a-cursor"})
    send("get-items", {"userId": "someone-else"})
    send("create-setup-intent", {"cogId": "someone-else"})

    for frame in ("not json", '{"action": "drop-tables"}', '{"action": "set-default-card"}'):
        seen.append(("?", handle_frame(svc, "u1", frame)))
    return seen


@pytest.fixture
def replies(
    call: Call, svc: Services, gateway: FakeGateway, store: MemoryStore
) -> list[tuple[str, dict[str, Any]]]:
    return every_kind_of_reply(call, svc, gateway, store)


def test_every_real_reply_matches_its_model(replies: list[tuple[str, dict[str, Any]]]) -> None:
    for action, reply in replies:
        validate_reply(json.dumps(reply))
        if action != "?":
            allowed = {*SUCCESS_REPLIES[action], ROUTES[action].failure, ERROR_ACTION}
            assert reply["action"] in allowed, (action, reply)


def test_every_reply_model_was_exercised(replies: list[tuple[str, dict[str, Any]]]) -> None:
    seen = {reply["action"] for _, reply in replies}
    assert seen == set(REPLY_MODELS)
    purchase_failures = [
        reply["message"]
        for _, reply in replies
        if reply["action"] == ROUTES["purchase-request"].failure
    ]
    outcome_keys = {f.alias or n for n, f in PurchaseOutcomeFailure.model_fields.items()}
    assert any(set(m) == outcome_keys for m in purchase_failures)
    assert any(set(m) == {"code", "error"} for m in purchase_failures)


def test_every_route_has_its_replies_declared() -> None:
    assert set(SUCCESS_REPLIES) == set(ROUTES)
    declared = {r for rs in SUCCESS_REPLIES.values() for r in rs}
    failures = {route.failure for route in ROUTES.values()}
    assert declared | failures | {ERROR_ACTION} == set(REPLY_MODELS)


@pytest.mark.parametrize(
    "reply",
    [
        {"action": "get-items-resp-success", "message": {"items": []}, "requestId": 5},
        {"action": "get-items-resp-success", "message": {"items": []}},
        {
            "action": "get-items-resp-success",
            "message": {"items": [], "more": 1},
            "requestId": None,
        },
        {"action": "set-default-card-resp-success", "message": {"id": "c"}, "requestId": None},
        {
            "action": "error",
            "message": {"code": "bad_request", "error": 5},
            "requestId": None,
        },
        {"action": "who-knows", "message": {}, "requestId": None},
    ],
)
def test_the_models_catch_drift(reply: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        validate_reply(json.dumps(reply))


def test_a_plain_failure_is_a_failure() -> None:
    model = validate_reply(
        json.dumps(
            {
                "action": "purchase-request-resp-failure",
                "message": {"code": "price_mismatch", "error": "Reload."},
                "requestId": "r",
            }
        )
    )
    assert isinstance(model, Failure)
