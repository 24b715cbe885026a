"""What a page does, in test form: make a card at 'Stripe.js', save it, fill a cart."""

from __future__ import annotations

from typing import Any

import httpx

from couchpay.client import CouchpayClient
from tests.e2e.conftest import Server
from tests.stripe_browser import create_payment_method

VISA, VISA_2, THREE_DS, DECLINE_ON_CHARGE, DECLINE = (
    "4242424242424242",
    "4111111111111111",
    "4000002500003155",
    "4000000000000341",
    "4000000000000002",
)


async def cart(client: CouchpayClient) -> list[dict[str, Any]]:
    reply = await client.call("get-items")
    assert reply["action"] == "get-items-resp-success", reply
    return [
        {"item_id": i["itemId"], "price_cents": i["priceCents"], "quantity": 1}
        for i in reply["message"]["items"]
    ]


def payment_method(server: Server, number: str = VISA, **kw: Any) -> dict[str, Any]:
    return create_payment_method(server.stripe_api_base, number, **kw)


async def save_card(server: Server, client: CouchpayClient, number: str = VISA) -> dict[str, Any]:
    pm = payment_method(server, number)
    reply = await client.call("create-payment-method", {"stripePayment": pm})
    assert reply["action"] == "create-payment-method-resp-success", reply
    return dict(reply["message"])


def intents_for(server: Server, user_id: str) -> list[dict[str, Any]]:
    """Every PaymentIntent localstripe holds for this user (by our metadata)."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        response = httpx.get(
            f"{server.stripe_api_base}/v1/payment_intents",
            params=params,
            headers={"Authorization": "Bearer sk_test_couchpay_offline"},
        )
        response.raise_for_status()
        page = response.json()
        found += [pi for pi in page["data"] if pi.get("metadata", {}).get("user_id") == user_id]
        if not page["has_more"] or not page["data"]:
            return found
        params["starting_after"] = page["data"][-1]["id"]
