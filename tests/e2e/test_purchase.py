"""Use cases B and C over a real WebSocket, with localstripe behind the service."""

from __future__ import annotations

import asyncio
import uuid

from tests.e2e.conftest import Fan, Server
from tests.e2e.helpers import (
    DECLINE_ON_CHARGE,
    THREE_DS,
    VISA,
    cart,
    intents_for,
    payment_method,
    save_card,
)
from tests.shipping import ADDRESS
from tests.stripe_browser import authenticate_payment_intent


async def test_buy_the_demo_cart_for_19200_once_even_when_retried(
    server: Server, alice: Fan
) -> None:
    card = await save_card(server, alice.client)
    items = await cart(alice.client)
    request = {
        "userId": alice.user_id,
        "cardId": card["uuid"],
        "items": items,
        "shippingAddress": ADDRESS,
    }
    rid = str(uuid.uuid4())
    reply = await alice.client.call("purchase-request", request, request_id=rid)
    assert reply["action"] == "purchase-request-resp-success", reply
    assert reply["requestId"] == rid
    msg = reply["message"]
    assert (
        msg["totalCents"],
        msg["subtotalCents"],
        msg["streamingCostCents"],
        msg["shippingCents"],
    ) == (
        19200,
        17000,
        1700,
        500,
    )
    assert msg["status"] == "succeeded"
    assert msg["card"] == {"brand": "visa", "lastFour": "4242"}
    retry = await alice.client.call("purchase-request", request, request_id=rid)
    assert retry["message"] == msg
    intents = intents_for(server, alice.user_id)
    assert [(pi["amount"], pi["status"]) for pi in intents] == [(19200, "succeeded")]
    assert intents[0]["metadata"]["transaction_id"] == msg["transactionId"]


async def test_concurrent_copies_on_different_connections_charge_once(
    server: Server, alice: Fan
) -> None:
    card = await save_card(server, alice.client)
    items = await cart(alice.client)
    tabs = [await server.client(alice.user_id) for _ in range(5)]
    rid = str(uuid.uuid4())
    request = {"cardId": card["uuid"], "items": items, "shippingAddress": ADDRESS}
    try:
        replies = await asyncio.gather(
            *(tab.call("purchase-request", request, request_id=rid) for tab in tabs * 2)
        )
    finally:
        for tab in tabs:
            await tab.close()
    assert {r["action"] for r in replies} == {"purchase-request-resp-success"}
    assert len({r["message"]["transactionId"] for r in replies}) == 1
    assert len(intents_for(server, alice.user_id)) == 1


async def test_three_d_secure_completed(server: Server, alice: Fan) -> None:
    card = await save_card(server, alice.client, THREE_DS)
    items = await cart(alice.client)
    reply = await alice.client.call(
        "purchase-request", {"cardId": card["uuid"], "items": items, "shippingAddress": ADDRESS}
    )
    assert reply["action"] == "get-payment-intent", reply
    secret = reply["message"]["clientSecret"]
    assert reply["message"]["paymentMethod"].startswith("pm_")
    authenticate_payment_intent(server.stripe_api_base, secret.split("_secret_")[0], secret, True)
    done = await alice.client.call(
        "confirm-purchase", {"transactionId": reply["message"]["transactionId"]}
    )
    assert done["action"] == "purchase-request-resp-success", done
    assert done["message"]["totalCents"] == 19200
    assert [pi["status"] for pi in intents_for(server, alice.user_id)] == ["succeeded"]


async def test_three_d_secure_failed(server: Server, alice: Fan) -> None:
    card = await save_card(server, alice.client, THREE_DS)
    items = await cart(alice.client)
    reply = await alice.client.call(
        "purchase-request", {"cardId": card["uuid"], "items": items, "shippingAddress": ADDRESS}
    )
    secret = reply["message"]["clientSecret"]
    authenticate_payment_intent(server.stripe_api_base, secret.split("_secret_")[0], secret, False)
    done = await alice.client.call(
        "confirm-purchase", {"transactionId": reply["message"]["transactionId"]}
    )
    assert done["action"] == "purchase-request-resp-failure"
    assert done["message"]["code"] == "payment_intent_authentication_failure"
    history = (await alice.client.call("get-user-purchases"))["message"]["purchases"]
    assert [(p["status"], p["failureCode"]) for p in history] == [
        ("failed", "payment_intent_authentication_failure")
    ]


async def test_a_decline_is_recorded_failed_with_stripes_code(server: Server, alice: Fan) -> None:
    card = await save_card(server, alice.client, DECLINE_ON_CHARGE)
    items = await cart(alice.client)
    reply = await alice.client.call(
        "purchase-request", {"cardId": card["uuid"], "items": items, "shippingAddress": ADDRESS}
    )
    assert reply["action"] == "purchase-request-resp-failure"
    assert reply["message"]["code"] == "card_declined"
    assert reply["message"]["transactionId"]
    history = (await alice.client.call("get-user-purchases"))["message"]["purchases"]
    assert [(p["transactionId"], p["status"]) for p in history] == [
        (reply["message"]["transactionId"], "failed")
    ]
    # the connection keeps serving
    assert (await alice.client.call("get-items"))["action"] == "get-items-resp-success"


async def test_one_off_card_pays_without_joining_the_wallet(server: Server, alice: Fan) -> None:
    items = await cart(alice.client)
    pm = payment_method(server, VISA)
    reply = await alice.client.call(
        "purchase-request", {"stripePayment": pm, "items": items, "shippingAddress": ADDRESS}
    )
    assert reply["action"] == "purchase-request-resp-success", reply
    assert (await alice.client.call("get-user-credit-card"))["message"]["cards"] == []
    kept = payment_method(server, VISA)
    reply = await alice.client.call(
        "purchase-request",
        {"stripePayment": kept, "saveCard": True, "items": items[:1], "shippingAddress": ADDRESS},
    )
    assert reply["action"] == "purchase-request-resp-success", reply
    wallet = (await alice.client.call("get-user-credit-card"))["message"]["cards"]
    assert [c["lastFour"] for c in wallet] == ["4242"]


async def test_price_mismatch_and_unavailable_item_charge_nothing(
    server: Server, alice: Fan
) -> None:
    card = await save_card(server, alice.client)
    items = await cart(alice.client)
    cheap = [{**items[2], "price_cents": 1}]
    reply = await alice.client.call(
        "purchase-request", {"cardId": card["uuid"], "items": cheap, "shippingAddress": ADDRESS}
    )
    assert (reply["action"], reply["message"]["code"]) == (
        "purchase-request-resp-failure",
        "price_mismatch",
    )
    ghost = [{"item_id": str(uuid.uuid4()), "price_cents": 100}]
    reply = await alice.client.call(
        "purchase-request", {"cardId": card["uuid"], "items": ghost, "shippingAddress": ADDRESS}
    )
    assert reply["message"]["code"] == "item_unavailable"
    assert intents_for(server, alice.user_id) == []
    assert (await alice.client.call("get-user-purchases"))["message"]["purchases"] == []


async def test_history_pages_newest_first(server: Server, alice: Fan) -> None:
    card = await save_card(server, alice.client)
    items = await cart(alice.client)
    bought = []
    for n in range(5):
        reply = await alice.client.call(
            "purchase-request",
            {"cardId": card["uuid"], "items": items[n % 3 : n % 3 + 1], "shippingAddress": ADDRESS},
        )
        bought.append(reply["message"]["transactionId"])
    seen, cursor, pages = [], None, 0
    while True:
        page = await alice.client.call("get-user-purchases", {"limit": 2, "cursor": cursor})
        assert page["action"] == "view-purchases-resp-success"
        seen += [p["transactionId"] for p in page["message"]["purchases"]]
        pages += 1
        cursor = page["message"]["nextCursor"]
        if cursor is None:
            break
    assert seen == bought[::-1]
    assert pages == 3
    first = (await alice.client.call("get-user-purchases", {"limit": 1}))["message"]["purchases"][0]
    assert first["items"][0]["unitPriceCents"] in (2000, 5000, 10000)
    assert first["status"] == "succeeded"
