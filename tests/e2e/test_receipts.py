"""Receipts and shipping over a real socket, against a real localstripe: get-purchase (also by
requestId, never another fan's), the shipping address (required, stored, sent to Stripe), cards
saved only once a payment has succeeded, and the receipt email from the sign-in token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import Fan, Server, new_user, running_server
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


def at_stripe(server: Server, pi_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{server.stripe_api_base}/v1/payment_intents/{pi_id}",
        headers={"Authorization": "Bearer sk_test_couchpay_offline"},
    )
    response.raise_for_status()
    return dict(response.json())


async def test_get_purchase_shows_the_receipt_to_its_owner_only(
    server: Server, alice: Fan, bob: Fan
) -> None:
    card = await save_card(server, alice.client)
    items = await cart(alice.client)
    rid = str(uuid.uuid4())
    paid = await alice.client.call(
        "purchase-request",
        {"cardId": card["uuid"], "items": items, "shippingAddress": ADDRESS},
        request_id=rid,
    )
    assert paid["action"] == "purchase-request-resp-success", paid
    tx = paid["message"]["transactionId"]

    mine = await alice.client.call("get-purchase", {"transactionId": tx})
    assert mine["action"] == "get-purchase-resp-success", mine
    receipt = mine["message"]["purchase"]
    assert receipt["shippingAddress"] == {**ADDRESS, "line2": None, "state": None}
    assert receipt["card"] == {"brand": "visa", "lastFour": "4242"}
    assert [(i["name"], i["unitPriceCents"], i["shippingCents"]) for i in receipt["items"]] == [
        ("Livestream ticket", 2000, 0),
        ("Meet and greet", 5000, 0),
        ("Tour poster", 10000, 500),
    ]
    by_request = await alice.client.call("get-purchase", {"requestId": rid})
    assert by_request["message"] == mine["message"]

    for message in ({"transactionId": tx}, {"requestId": rid}):
        theirs = await bob.client.call("get-purchase", message)
        assert (theirs["action"], theirs["message"]["code"]) == (
            "get-purchase-resp-failure",
            "not_found",
        )

    [intent] = intents_for(server, alice.user_id)
    shipping = at_stripe(server, intent["id"])["shipping"]
    assert shipping["name"] == "Ada Lovelace"
    assert shipping["address"]["postal_code"] == "SW1Y 4JH"
    assert shipping["address"]["country"] == "GB"


async def test_the_poster_needs_an_address(server: Server, alice: Fan) -> None:
    card = await save_card(server, alice.client)
    items = await cart(alice.client)
    reply = await alice.client.call("purchase-request", {"cardId": card["uuid"], "items": items})
    assert reply["message"]["code"] == "shipping_address_required"
    nowhere = {**ADDRESS, "country": "ZZ"}
    reply = await alice.client.call(
        "purchase-request",
        {"cardId": card["uuid"], "items": items, "shippingAddress": nowhere},
    )
    assert reply["message"]["code"] == "bad_request"
    assert intents_for(server, alice.user_id) == []
    assert (await alice.client.call("get-user-purchases"))["message"]["purchases"] == []


async def test_a_declined_card_is_not_saved(server: Server, alice: Fan) -> None:
    items = (await cart(alice.client))[:1]
    pm = payment_method(server, DECLINE_ON_CHARGE)
    reply = await alice.client.call(
        "purchase-request", {"stripePayment": pm, "saveCard": True, "items": items}
    )
    assert reply["message"]["code"] == "card_declined"
    assert (await alice.client.call("get-user-credit-card"))["message"]["cards"] == []


async def test_a_card_is_saved_only_when_3ds_passes(server: Server, alice: Fan) -> None:
    items = (await cart(alice.client))[:1]
    for success in (False, True):
        pm = payment_method(server, THREE_DS)
        reply = await alice.client.call(
            "purchase-request", {"stripePayment": pm, "saveCard": True, "items": items}
        )
        assert reply["action"] == "get-payment-intent", reply
        assert (await alice.client.call("get-user-credit-card"))["message"]["cards"] == []
        secret = reply["message"]["clientSecret"]
        authenticate_payment_intent(
            server.stripe_api_base, secret.split("_secret_")[0], secret, success
        )
        await alice.client.call(
            "confirm-purchase", {"transactionId": reply["message"]["transactionId"]}
        )
        cards = (await alice.client.call("get-user-credit-card"))["message"]["cards"]
        assert [c["lastFour"] for c in cards] == (["3155"] if success else [])


async def test_a_typed_in_card_is_saved_after_paying(server: Server, alice: Fan) -> None:
    items = (await cart(alice.client))[:1]
    pm = payment_method(server, VISA)
    reply = await alice.client.call(
        "purchase-request", {"stripePayment": pm, "saveCard": True, "items": items}
    )
    assert reply["action"] == "purchase-request-resp-success", reply
    cards = (await alice.client.call("get-user-credit-card"))["message"]["cards"]
    assert [c["lastFour"] for c in cards] == ["4242"]
    [intent] = intents_for(server, alice.user_id)
    assert at_stripe(server, intent["id"])["setup_future_usage"] == "off_session"


async def test_the_receipt_goes_to_the_email_of_the_token(server: Server) -> None:
    user_id = new_user("mailed")
    client = await server.client(user_id, email="mailed@example.com")
    try:
        items = (await cart(client))[:1]
        pm = payment_method(server, VISA)
        paid = await client.call("purchase-request", {"stripePayment": pm, "items": items})
        assert paid["action"] == "purchase-request-resp-success", paid
        got = await client.call("get-purchase", {"transactionId": paid["message"]["transactionId"]})
        assert got["message"]["purchase"]["receiptEmail"] == "mailed@example.com"
    finally:
        await client.close()
    [intent] = intents_for(server, user_id)
    assert at_stripe(server, intent["id"])["receipt_email"] == "mailed@example.com"


async def test_a_total_under_stripes_minimum_is_refused(tmp_path: Path) -> None:
    """An operator adds a 40-cent sticker (`couchpay catalog add`); 44 cents with the streaming
    cost is under Stripe's 50-cent minimum: refused, nothing written, nothing at Stripe."""
    with running_server(tmp_path) as own:
        added = subprocess.run(
            [
                *(sys.executable, "-m", "couchpay.entrypoints.cli", "catalog", "add"),
                *("Sticker", "--kind", "merch", "--price-cents", "40", "--json"),
            ],
            env={**os.environ, "COUCHPAY_DATA_DIR": str(own.data_dir)},
            capture_output=True,
            text=True,
            check=True,
        )
        sticker = json.loads(added.stdout)
        user_id = new_user("thrifty")
        client = await own.client(user_id)
        try:
            pm = payment_method(own, VISA)
            line = {"item_id": sticker["itemId"], "price_cents": 40}
            reply = await client.call("purchase-request", {"stripePayment": pm, "items": [line]})
            assert (reply["action"], reply["message"]["code"]) == (
                "purchase-request-resp-failure",
                "amount_too_small",
            )
            history = await client.call("get-user-purchases")
            assert history["message"]["purchases"] == []
        finally:
            await client.close()
        assert intents_for(own, user_id) == []
