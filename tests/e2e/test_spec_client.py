"""A client written from SPEC.md alone, over a raw WebSocket (not couchpay's own client).

Acceptance checked here:
- a client written from SPEC.md alone can add a card, see it, buy the three demo items for 19200
  with exactly one PaymentIntent at Stripe, retry without a second charge, and page through
  history;
- every failure leaves Stripe untouched and gives the code SPEC names; the connection keeps
  serving (card_not_valid, price_mismatch, item_unavailable, unauthorized, and a decline on charge
  with Stripe's code).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from tests.shipping import ADDRESS
from tests.stripe_browser import create_payment_method

pytestmark = pytest.mark.e2e

STRIPE_SECRET = "sk_test_couchpay_offline"
REPLY_TIMEOUT = 20.0
QUEUED = "purchase-request-resp-queued"


class SpecClient:
    """The minimal client SPEC.md's "Wire protocol" section describes."""

    def __init__(self, ws: Any, user_id: str) -> None:
        self.ws = ws
        self.user_id = user_id
        self.unsolicited: list[dict[str, Any]] = []
        self.places: list[int] = []  # positions in line we were told, if any

    @classmethod
    async def connect(cls, server: Any, user_id: str) -> SpecClient:
        ws = await websockets.connect(server.ws_url + "?token=" + server.token(user_id))
        return cls(ws, user_id)

    async def close(self) -> None:
        await self.ws.close()

    def ids(self, user_id: str | None = None) -> dict[str, str]:
        """`userId`/`cogId` as the notes send them: both are the signed-in user."""
        uid = user_id or self.user_id
        return {"userId": uid, "cogId": uid}

    async def request(
        self, action: str, message: dict[str, Any], request_id: str | None = None
    ) -> dict[str, Any]:
        """Send one request; return the final reply that echoes its requestId (SPEC B′: a
        purchase waiting in line is told `purchase-request-resp-queued` first, maybe again)."""
        rid = request_id or str(uuid.uuid4())
        await self.ws.send(json.dumps({"action": action, "message": message, "requestId": rid}))
        async with asyncio.timeout(REPLY_TIMEOUT):
            while True:
                frame = json.loads(await self.ws.recv())
                if frame.get("requestId") == rid and frame["action"] == QUEUED:
                    self.places.append(frame["message"]["position"])
                elif frame.get("requestId") == rid:
                    return frame
                # Anything else is a push (e.g. a webhook settling a purchase); keep it aside.
                self.unsolicited.append(frame)

    # -- actions ---------------------------------------------------------------------------
    async def items(self) -> list[dict[str, Any]]:
        reply = await self.request("get-items", {})
        assert reply["action"] == "get-items-resp-success", reply
        return list(reply["message"]["items"])

    async def save_card(self, payment_method: dict[str, Any]) -> dict[str, Any]:
        return await self.request(
            "create-payment-method", {**self.ids(), "stripePayment": payment_method}
        )

    async def wallet(self) -> list[dict[str, Any]]:
        reply = await self.request("get-user-credit-card", self.ids())
        assert reply["action"] == "get-user-credit-card-resp-success", reply
        return list(reply["message"]["cards"])

    async def buy(
        self,
        card_id: str,
        lines: list[dict[str, Any]],
        request_id: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        body = {**self.ids(user_id), "cardId": card_id, "items": lines, "shippingAddress": ADDRESS}
        return await self.request("purchase-request", body, request_id or str(uuid.uuid4()))

    async def purchases(self, limit: int | None = None, cursor: str | None = None) -> dict:
        message: dict[str, Any] = self.ids()
        if limit is not None:
            message["limit"] = limit
        if cursor is not None:
            message["cursor"] = cursor
        reply = await self.request("get-user-purchases", message)
        assert reply["action"] == "view-purchases-resp-success", reply
        return dict(reply["message"])


LIVESTREAM, MEET_AND_GREET, POSTER = 2000, 5000, 10000  # SPEC's demo catalog, in cents


def lines_for(items: list[dict[str, Any]], *prices: int) -> list[dict[str, Any]]:
    """Cart lines in the purchase-request shape (`item_id`, `price_cents`, `quantity`).

    SPEC names the demo items only by what they are and cost, so they are picked by price."""
    chosen = [i for i in items if not prices or i["priceCents"] in prices]
    assert chosen, (prices, items)
    return [{"item_id": i["itemId"], "price_cents": i["priceCents"], "quantity": 1} for i in chosen]


def stripe_payment_intents(api_base: str) -> list[dict[str, Any]]:
    """Every PaymentIntent localstripe holds, read straight from it."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        while True:
            response = http.get(
                f"{api_base}/v1/payment_intents",
                params=params,
                headers={"Authorization": f"Bearer {STRIPE_SECRET}"},
            )
            assert response.status_code == 200, response.text
            page = response.json()
            found.extend(page["data"])
            if not page.get("has_more") or not page["data"]:
                return found
            params["starting_after"] = page["data"][-1]["id"]


def intents_for(api_base: str, user_id: str) -> list[dict[str, Any]]:
    return [
        pi
        for pi in stripe_payment_intents(api_base)
        if user_id in json.dumps(pi.get("metadata") or {})
    ]


def fresh_user(name: str) -> str:
    return f"spec-{name}-{uuid.uuid4()}"


@pytest.fixture
async def fan(server: Any) -> AsyncIterator[SpecClient]:
    client = await SpecClient.connect(server, fresh_user("fan"))
    yield client
    await client.close()


@pytest.fixture
async def other_fan(server: Any) -> AsyncIterator[SpecClient]:
    client = await SpecClient.connect(server, fresh_user("other"))
    yield client
    await client.close()


async def save_live_card(client: SpecClient, api_base: str, number: str) -> dict[str, Any]:
    pm = create_payment_method(api_base, number, exp_month=12, exp_year=2030, name="Spec Fan")
    reply = await client.save_card(pm)
    assert reply["action"] == "create-payment-method-resp-success", reply
    card = reply["message"]
    assert card["status"] == "live", card
    assert card["lastFour"] == number[-4:]
    return dict(card)


# -- acceptance 1: the happy path --------------------------------------------------------------
async def test_spec_client_saves_buys_retries_and_pages(server: Any, fan: SpecClient) -> None:
    api = server.stripe_api_base
    all_before = len(stripe_payment_intents(api))

    # Add a card (Stripe.js makes the PaymentMethod; we only send it to the service).
    pm = create_payment_method(api, "4242424242424242", exp_month=12, exp_year=2030, name="Spec")
    reply = await fan.save_card(pm)
    assert reply["action"] == "create-payment-method-resp-success", reply
    card = reply["message"]
    for key in ("uuid", "lastFour", "brand", "expMonth", "expYear", "status"):
        assert key in card, (key, card)
    assert (card["lastFour"], card["brand"], card["expMonth"], card["expYear"], card["status"]) == (
        "4242",
        "visa",
        12,
        2030,
        "live",
    )
    card_id = card["uuid"]

    # See it in the wallet.
    wallet = await fan.wallet()
    assert [c["id"] for c in wallet] == [card_id]
    shown = wallet[0]
    assert (shown["lastFour"], shown["brand"], shown["status"]) == ("4242", "visa", "live")
    assert (shown["expMonth"], shown["expYear"]) == (12, 2030)
    assert shown["nameOnCard"] == "Spec"

    # The demo catalog, and the notes' example: 17000 + 1700 + 500 = 19200.
    items = await fan.items()
    assert sorted(i["priceCents"] for i in items) == [LIVESTREAM, MEET_AND_GREET, POSTER], items
    assert {i["priceCents"]: i["shippingCents"] for i in items}[POSTER] == 500, items
    assert sum(i["shippingCents"] for i in items) == 500, items
    for item in items:
        assert set(item) >= {"itemId", "name", "kind", "priceCents", "shippingCents"}, item

    request_id = str(uuid.uuid4())
    reply = await fan.buy(card_id, lines_for(items), request_id)
    assert reply["action"] == "purchase-request-resp-success", reply
    assert reply["requestId"] == request_id
    paid = reply["message"]
    assert paid["status"] == "succeeded"
    assert paid["subtotalCents"] == 17000
    assert paid["streamingCostCents"] == 1700
    assert paid["shippingCents"] == 500
    assert paid["totalCents"] == 19200
    assert paid["card"] == {"brand": "visa", "lastFour": "4242"}
    transaction_id = paid["transactionId"]

    # Exactly one PaymentIntent at Stripe, for the catalog total, tied to this transaction.
    assert len(stripe_payment_intents(api)) == all_before + 1
    mine = intents_for(api, fan.user_id)
    assert len(mine) == 1, mine
    pi = mine[0]
    assert pi["amount"] == 19200
    assert pi["currency"] == "usd"
    assert pi["status"] == "succeeded"
    assert transaction_id in json.dumps(pi["metadata"])

    # Retry: same connection (double click) and a second connection (another tab).
    again = await fan.buy(card_id, lines_for(items), request_id)
    assert again["action"] == "purchase-request-resp-success", again
    assert again["message"]["transactionId"] == transaction_id
    assert again["message"]["totalCents"] == 19200
    tab = await SpecClient.connect(server, fan.user_id)
    try:
        other_tab = await tab.buy(card_id, lines_for(items), request_id)
    finally:
        await tab.close()
    assert other_tab["action"] == "purchase-request-resp-success", other_tab
    assert other_tab["message"]["transactionId"] == transaction_id
    assert len(stripe_payment_intents(api)) == all_before + 1
    assert len(intents_for(api, fan.user_id)) == 1

    # Two more purchases, so the history has pages to turn.
    ticket = await fan.buy(card_id, lines_for(items, LIVESTREAM))
    assert ticket["action"] == "purchase-request-resp-success", ticket
    assert ticket["message"]["totalCents"] == 2200  # 2000 + 10 %
    two = [{**lines_for(items, MEET_AND_GREET)[0], "quantity": 2}]
    greet = await fan.buy(card_id, two)
    assert greet["action"] == "purchase-request-resp-success", greet
    assert greet["message"]["totalCents"] == 11000  # 2 x 5000 + 10 %
    assert len(intents_for(api, fan.user_id)) == 3

    newest_first = [
        greet["message"]["transactionId"],
        ticket["message"]["transactionId"],
        transaction_id,
    ]

    # Default page: everything, newest first, no further page; the retries added no rows.
    whole = await fan.purchases()
    assert [p["transactionId"] for p in whole["purchases"]] == newest_first
    assert whole["nextCursor"] is None

    # Page through with limit=1 and limit=2.
    for limit in (1, 2):
        seen: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            page = await fan.purchases(limit=limit, cursor=cursor)
            assert len(page["purchases"]) <= limit
            seen.extend(p["transactionId"] for p in page["purchases"])
            pages += 1
            cursor = page["nextCursor"]
            if cursor is None:
                break
            assert pages < 10, "paging does not end"
        assert seen == newest_first, (limit, seen)

    first = next(p for p in whole["purchases"] if p["transactionId"] == transaction_id)
    assert first["totalCents"] == 19200
    assert first["status"] == "succeeded"


# -- acceptance 2: failures --------------------------------------------------------------------
async def test_failures_leave_stripe_untouched_and_connection_serving(
    server: Any, fan: SpecClient, other_fan: SpecClient
) -> None:
    api = server.stripe_api_base
    my_card = (await save_live_card(fan, api, "4242424242424242"))["uuid"]
    their_card = (await save_live_card(other_fan, api, "4111111111111111"))["uuid"]
    items = await fan.items()
    ticket = lines_for(items, LIVESTREAM)

    async def still_serving(expected_intents: int) -> None:
        """A good purchase right after, on the same connection, charges exactly once."""
        ok = await fan.buy(my_card, ticket)
        assert ok["action"] == "purchase-request-resp-success", ok
        assert ok["message"]["totalCents"] == 2200
        assert len(stripe_payment_intents(api)) == expected_intents

    async def refused(reply: dict[str, Any], code: str, before: int) -> None:
        assert reply["action"] == "purchase-request-resp-failure", reply
        assert reply["message"]["code"] == code, reply
        assert isinstance(reply["message"]["error"], str)
        assert reply["message"]["error"]
        assert len(stripe_payment_intents(api)) == before, f"{code} touched Stripe"
        await still_serving(before + 1)

    # card_not_valid: another user's card.
    before = len(stripe_payment_intents(api))
    await refused(await fan.buy(their_card, ticket), "card_not_valid", before)

    # card_not_valid too: a card id nobody has.
    before = len(stripe_payment_intents(api))
    await refused(await fan.buy(str(uuid.uuid4()), ticket), "card_not_valid", before)

    # price_mismatch: the client's price differs from the catalog by a cent.
    cheap = [{**ticket[0], "price_cents": ticket[0]["price_cents"] - 1}]
    before = len(stripe_payment_intents(api))
    await refused(await fan.buy(my_card, cheap), "price_mismatch", before)

    # item_unavailable: an item that is not in the catalog.
    ghost = [*ticket, {"item_id": str(uuid.uuid4()), "price_cents": 100, "quantity": 1}]
    before = len(stripe_payment_intents(api))
    await refused(await fan.buy(my_card, ghost), "item_unavailable", before)

    # unauthorized: userId of someone else, even with this user's own card.
    before = len(stripe_payment_intents(api))
    reply = await fan.buy(my_card, ticket, user_id=other_fan.user_id)
    await refused(reply, "unauthorized", before)

    # unauthorized on the wallet too: it never shows the other user's cards.
    reply = await fan.request("get-user-credit-card", fan.ids(other_fan.user_id))
    assert reply["action"] == "get-user-credit-card-resp-failure", reply
    assert reply["message"]["code"] == "unauthorized"
    assert [c["id"] for c in await fan.wallet()] == [my_card]

    # Nothing above reached the other user's card at Stripe.
    assert intents_for(api, other_fan.user_id) == []

    # A decline: 4000 0000 0000 0341 attaches, then is declined on charge.
    declining = (await save_live_card(fan, api, "4000000000000341"))["uuid"]
    before = len(stripe_payment_intents(api))
    request_id = str(uuid.uuid4())
    reply = await fan.buy(declining, ticket, request_id)
    assert reply["action"] == "purchase-request-resp-failure", reply
    failed = reply["message"]
    assert failed["code"] == "card_declined", failed
    assert failed["error"]
    assert failed["transactionId"]
    # The charge was attempted once at Stripe, and Stripe recorded the same code.
    assert len(stripe_payment_intents(api)) == before + 1
    pi = next(
        p
        for p in intents_for(api, fan.user_id)
        if failed["transactionId"] in json.dumps(p["metadata"])
    )
    assert pi["status"] != "succeeded"
    assert (pi.get("last_payment_error") or {}).get("code") == "card_declined", pi
    # Retrying the declined request returns the same outcome and does not charge again.
    again = await fan.buy(declining, ticket, request_id)
    assert again["action"] == "purchase-request-resp-failure", again
    assert again["message"]["transactionId"] == failed["transactionId"]
    assert again["message"]["code"] == "card_declined"
    assert len(stripe_payment_intents(api)) == before + 1
    await still_serving(before + 2)

    # History shows the decline as failed, next to the successful purchases.
    history = (await fan.purchases())["purchases"]
    statuses = {p["transactionId"]: p["status"] for p in history}
    assert statuses[failed["transactionId"]] == "failed"
    assert sum(1 for s in statuses.values() if s == "succeeded") == 6
