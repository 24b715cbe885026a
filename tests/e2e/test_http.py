"""The HTTP side of `couchpay serve`: health, config for the page, the page, the webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time

import httpx

from couchpay.client import CouchpayClient
from tests.e2e.conftest import WEBHOOK_SECRET, Fan, Server
from tests.e2e.helpers import cart, save_card
from tests.shipping import ADDRESS


def test_health_config_and_page(server: Server) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    config = httpx.get(f"{server.url}/config").json()
    assert config["publishableKey"].startswith("pk_test_")
    assert config["stripeApiBase"].startswith("http://127.0.0.1:")
    js = httpx.get(config["stripeJsUrl"])
    assert js.status_code == 200 and "Stripe" in js.text
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and page.text.lower().startswith("<!doctype html>")


def signed(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={ts},v1={mac}", "Content-Type": "application/json"}


def test_webhook_signature_is_checked_and_events_are_kept_once(server: Server) -> None:
    event = json.dumps({"id": f"evt_{time.time_ns()}", "type": "ping", "data": {}}).encode()
    url = f"{server.url}/stripe/webhook"
    forged = httpx.post(url, content=event, headers=signed(event, "whsec_wrong"))
    stale = httpx.post(url, content=event, headers=signed(event, at=int(time.time()) - 3600))
    unsigned = httpx.post(url, content=event)
    assert (forged.status_code, stale.status_code, unsigned.status_code) == (400, 400, 400)
    first = httpx.post(url, content=event, headers=signed(event))
    again = httpx.post(url, content=event, headers=signed(event))
    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert first.json()["outcome"] == "ignored"  # a type couchpay has no use for
    assert (again.status_code, again.json()["duplicate"]) == (200, True)


async def test_localstripes_own_webhooks_arrive_signed(server: Server, alice: Fan) -> None:
    card = await save_card(server, alice.client)
    reply = await alice.client.call(
        "purchase-request",
        {"cardId": card["uuid"], "items": await cart(alice.client), "shippingAddress": ADDRESS},
    )
    assert reply["action"] == "purchase-request-resp-success"
    deadline = time.monotonic() + 15
    kinds: set[str] = set()
    while time.monotonic() < deadline and "payment_intent.succeeded" not in kinds:
        time.sleep(0.2)
        with sqlite3.connect(server.data_dir / "couchpay.sqlite3") as db:
            kinds = {row[0] for row in db.execute("SELECT event_type FROM webhook_events")}
    assert "payment_intent.succeeded" in kinds


async def test_dev_sign_in_issues_a_token_that_opens_a_socket(server: Server) -> None:
    reply = httpx.post(f"{server.url}/dev/token", json={"userId": "dana"})
    assert reply.status_code == 200
    assert reply.json()["userId"] == "dana"
    async with await CouchpayClient.connect(server.ws_url, reply.json()["token"]) as dana:
        assert (await dana.call("get-user-credit-card"))["message"] == {"cards": []}
    for bad in ({"userId": ""}, {"userId": "x" * 65}, {"userId": "a b"}, {"nope": 1}):
        assert httpx.post(f"{server.url}/dev/token", json=bad).status_code == 400
