"""Disputes and entitlements over a real socket, against the offline Stripe: a fan pays with
Stripe's disputed test card (4000 0000 0000 0259), the charge is disputed at 'Stripe', and
Stripe-signed webhook events naming the real dispute reach the service, which re-reads it. What
the fan may watch follows: suspended while the dispute is open, back when it is won, gone when it
is lost; gone after a full refund, kept after a partial one. Late, repeated and out-of-order
events change nothing. Runs on `couchpay serve` and on the serverless stack alike."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx

from tests.e2e.conftest import WEBHOOK_SECRET, Fan, Server
from tests.e2e.helpers import VISA, cart, intents_for, save_card
from tests.shipping import ADDRESS

DISPUTED = "4000000000000259"
KEY = {"Authorization": "Bearer sk_test_couchpay_offline"}
KINDS = ["livestream", "meet_and_greet", "merch"]


def stripe_call(server: Server, method: str, path: str, **kw: Any) -> dict[str, Any]:
    response = httpx.request(method, f"{server.stripe_api_base}{path}", headers=KEY, **kw)
    assert response.status_code == 200, response.text
    return dict(response.json())


def post_event(server: Server, kind: str, obj: dict[str, Any], event_id: str = "") -> Any:
    """What Stripe sends: a signed event naming an object (only its ids are trusted), delivered
    again after a 5xx as Stripe does (serverless-offline's Lambda context counts down from 6 s,
    so a cold start on a busy machine may leave too little time to call Stripe: 503)."""
    event = {"id": event_id or f"evt_{uuid.uuid4().hex}", "type": kind, "data": {"object": obj}}
    body = json.dumps(event).encode()
    for _ in range(5):
        ts = int(time.time())
        mac = hmac.new(WEBHOOK_SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256)
        headers = {"Stripe-Signature": f"t={ts},v1={mac.hexdigest()}"}
        url = f"{server.url}/stripe/webhook"
        response = httpx.post(url, content=body, headers=headers, timeout=60)
        if response.status_code < 500:
            break
    assert response.status_code == 200, response.text
    return response.json()


def dispute_event(server: Server, kind: str, dispute: dict[str, Any], event_id: str = "") -> Any:
    """The event as Stripe sends it: the dispute object as it was when the event was made."""
    return post_event(server, f"charge.dispute.{kind}", dispute, event_id)


async def buy(server: Server, fan: Fan, number: str) -> tuple[str, str]:
    card = await save_card(server, fan.client, number)
    paid = await fan.client.call(
        "purchase-request",
        {"cardId": card["uuid"], "items": await cart(fan.client), "shippingAddress": ADDRESS},
        request_id=str(uuid.uuid4()),
    )
    assert paid["action"] == "purchase-request-resp-success", paid
    (intent,) = [pi for pi in intents_for(server, fan.user_id)]
    return paid["message"]["transactionId"], intent["id"]


def dispute_of(server: Server, pi_id: str) -> dict[str, Any]:
    found = stripe_call(server, "GET", "/v1/disputes", params={"payment_intent": pi_id})["data"]
    assert len(found) == 1, found
    return dict(found[0])


async def entitled(fan: Fan) -> list[tuple[str, str, str]]:
    reply = await fan.client.call("get-user-entitlements", {"limit": 100})
    assert reply["action"] == "get-user-entitlements-resp-success", reply
    assert reply["message"]["nextCursor"] is None
    return [(e["transactionId"], e["kind"], e["status"]) for e in reply["message"]["entitlements"]]


def each(tx: str, status: str) -> list[tuple[str, str, str]]:
    return [(tx, kind, status) for kind in KINDS]


async def test_a_won_dispute_suspends_then_gives_back_and_late_events_change_nothing(
    server: Server, alice: Fan, bob: Fan
) -> None:
    tx, pi = await buy(server, alice, DISPUTED)
    dispute = dispute_of(server, pi)
    assert (dispute["status"], dispute["amount"], dispute["reason"]) == (
        "needs_response",
        19200,
        "fraudulent",
    )
    created = f"evt_created_{uuid.uuid4().hex}"
    first = dispute_event(server, "created", dispute, created)
    assert first["outcome"] in ("dispute needs_response", "no change")  # Stripe's own may be first
    assert await entitled(alice) == each(tx, "suspended")
    again = dispute_event(server, "created", dispute, created)
    assert again["duplicate"] is True
    assert await entitled(bob) == []

    stripe_call(
        server,
        "POST",
        f"/v1/disputes/{dispute['id']}",
        data={"evidence[uncategorized_text]": "winning_evidence"},
    )
    closed = stripe_call(server, "GET", f"/v1/disputes/{dispute['id']}")
    assert closed["status"] == "won"
    dispute_event(server, "closed", closed)
    assert await entitled(alice) == each(tx, "active")
    late = dispute_event(server, "created", dispute)  # the stale payload says needs_response
    assert late["outcome"] == "no change"
    assert await entitled(alice) == each(tx, "active")


async def test_a_lost_dispute_revokes_even_when_the_events_come_in_reverse(
    server: Server, alice: Fan
) -> None:
    tx, pi = await buy(server, alice, DISPUTED)
    dispute = dispute_of(server, pi)
    stripe_call(server, "POST", f"/v1/disputes/{dispute['id']}/close")  # accepted: lost
    closed = stripe_call(server, "GET", f"/v1/disputes/{dispute['id']}")
    assert closed["status"] == "lost"
    assert dispute_event(server, "closed", closed)["outcome"] in ("dispute lost", "no change")
    dispute_event(server, "updated", dispute)
    dispute_event(server, "created", dispute)
    dispute_event(server, "funds_withdrawn", dispute)
    assert await entitled(alice) == []
    receipt = await alice.client.call("get-purchase", {"transactionId": tx})
    assert receipt["message"]["purchase"]["status"] == "succeeded"  # the money story is Stripe's


async def test_a_partial_refund_keeps_the_entitlements_and_a_full_one_revokes_them(
    server: Server, alice: Fan
) -> None:
    tx, pi = await buy(server, alice, VISA)
    assert await entitled(alice) == each(tx, "active")
    charge = stripe_call(server, "GET", f"/v1/payment_intents/{pi}")["latest_charge"]
    refund = {"payment_intent": pi, "amount": "500"}
    stripe_call(server, "POST", "/v1/refunds", data=refund)  # from Stripe's dashboard
    post_event(server, "charge.refunded", {"id": charge, "object": "charge", "payment_intent": pi})
    assert await entitled(alice) == each(tx, "active")
    stripe_call(server, "POST", "/v1/refunds", data={**refund, "amount": str(19200 - 500)})
    post_event(server, "charge.refunded", {"id": charge, "object": "charge", "payment_intent": pi})
    assert await entitled(alice) == []
