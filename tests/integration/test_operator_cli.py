"""The operator at the CLI: `couchpay purchases list|show` and `couchpay users export|forget`,
run as subprocesses against a real `couchpay serve` with real purchases at a real localstripe,
on SQLite and on Amazon's DynamoDB Local (the same test, the store chosen by COUCHPAY_DB)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from couchpay.adapters.dev_tokens import DevTokens
from couchpay.client import CouchpayClient
from couchpay.offline_stripe.process import LocalStripe
from tests.aws.dynamodb_local import unavailable_reason
from tests.aws.requirements import need
from tests.aws.servers import FAKE_CREDENTIALS, REGION, DynamoDbLocal
from tests.e2e.conftest import WEBHOOK_SECRET, start_server
from tests.e2e.helpers import cart
from tests.shipping import ADDRESS
from tests.stripe_browser import create_payment_method

KEY = "sk_test_couchpay_offline"
VISA, DECLINED_ON_CHARGE = "4242424242424242", "4000000000000341"
DISPUTED = "4000000000000259"  # Stripe's test card whose charge is disputed after it is paid


@dataclass
class Shop:
    data_dir: Path
    env: dict[str, str]
    url: str
    api_base: str

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")} | self.env
        return subprocess.run(
            [sys.executable, "-m", "couchpay.entrypoints.cli", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def ok(self, *args: str) -> str:
        done = self.cli(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    async def client(self, user_id: str, email: str | None = None) -> CouchpayClient:
        token = DevTokens(self.data_dir / "dev-signing.key").mint(user_id, 600, email=email)
        return await CouchpayClient.connect(self.url.replace("http", "ws", 1) + "/ws", token)


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[DynamoDbLocal]:
    need(unavailable_reason(), "DynamoDB Local")
    with DynamoDbLocal() as server:
        yield server


@pytest.fixture(params=["sqlite", "dynamodb-local"])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    env: dict[str, str] = {"COUCHPAY_DATA_DIR": str(tmp_path)}
    if request.param == "dynamodb-local":
        server: DynamoDbLocal = request.getfixturevalue("dynamodb")
        env["COUCHPAY_DB"] = (
            f"dynamodb://{server.new_prefix()}?endpoint={server.endpoint}&region={REGION}"
            "&create_tables=1"
        )
        env["AWS_ACCESS_KEY_ID"] = FAKE_CREDENTIALS["aws_access_key_id"]
        env["AWS_SECRET_ACCESS_KEY"] = FAKE_CREDENTIALS["aws_secret_access_key"]
    with LocalStripe() as stripe_:
        env["STRIPE_API_BASE"] = stripe_.api_base
        proc, url = start_server(tmp_path, tmp_path / "server.log", env)
        try:
            yield Shop(tmp_path, env, url, stripe_.api_base)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


async def _buy(c: CouchpayClient, card: str, request_id: str) -> dict[str, Any]:
    msg = {"cardId": card, "items": await cart(c), "shippingAddress": ADDRESS}
    reply = await c.call("purchase-request", msg, request_id=request_id)
    return dict(reply["message"])


async def _fill(shop: Shop) -> dict[str, Any]:
    """ada: three paid purchases (one then refunded in part, one in full); bob: one paid, one
    declined. Every cart holds the poster, so every purchase has a shipping address."""
    made: dict[str, Any] = {}
    for user, email in (("ada", "ada@example.com"), ("bob", None)):
        c = await shop.client(user, email)
        name = {"ada": "Ada Lovelace", "bob": "Robert Nesta"}[user]
        pm = create_payment_method(shop.api_base, VISA, name=name)
        card = (await c.call("create-payment-method", {"stripePayment": pm}))["message"]
        made[user] = {"card": card["uuid"], "tx": []}
        for i in range(3 if user == "ada" else 1):
            made[user]["tx"].append((await _buy(c, card["uuid"], f"{user}-{i}"))["transactionId"])
        if user == "bob":
            bad = create_payment_method(shop.api_base, DECLINED_ON_CHARGE)
            bad_card = (await c.call("create-payment-method", {"stripePayment": bad}))["message"]
            made["declined"] = (await _buy(c, bad_card["uuid"], "bob-bad"))["transactionId"]
        await c.close()
    shop.ok("refund", made["ada"]["tx"][0], "--amount", "500")
    shop.ok("refund", made["ada"]["tx"][1])
    return made


async def _disputed_purchase(shop: Shop) -> str:
    """carol pays with the disputed test card; 'Stripe' disputes the charge and sends the signed
    ``charge.dispute.created`` event, which the server re-reads from Stripe and records."""
    c = await shop.client("carol")
    pm = create_payment_method(shop.api_base, DISPUTED)
    card = (await c.call("create-payment-method", {"stripePayment": pm}))["message"]
    paid = await _buy(c, card["uuid"], "carol-0")
    await c.close()
    intent = shop.json("purchases", "show", paid["transactionId"])["payment_intent_id"]
    key = {"Authorization": f"Bearer {KEY}"}
    found = httpx.get(
        f"{shop.api_base}/v1/disputes", params={"payment_intent": intent}, headers=key
    ).json()["data"]
    event = {
        "id": f"evt_{intent}",
        "type": "charge.dispute.created",
        "data": {"object": {"id": found[0]["id"], "object": "dispute"}},
    }
    body = json.dumps(event).encode()
    ts = int(time.time())
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Stripe-Signature": f"t={ts},v1={mac}"}
    answer = httpx.post(f"{shop.url}/stripe/webhook", content=body, headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    return str(paid["transactionId"])


def _ids(listing: dict[str, Any]) -> list[str]:
    return [p["transaction_id"] for p in listing["purchases"]]


async def test_operator_lookups_and_a_fans_data(shop: Shop) -> None:
    made = await _fill(shop)
    ada, bob = made["ada"]["tx"], made["bob"]["tx"]

    # list: newest first, every filter, paged ---------------------------------------------
    everything = shop.json("purchases", "list")
    assert _ids(everything) == [made["declined"], *reversed(bob), *reversed(ada)]
    assert everything["nextCursor"] is None
    pages, cursor = [], None
    while True:
        args = ["purchases", "list", "--limit", "2"] + (["--cursor", cursor] if cursor else [])
        page = shop.json(*args)
        pages.append(_ids(page))
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [tx for page in pages for tx in page] == _ids(everything)
    assert _ids(shop.json("purchases", "list", "--user", "ada")) == list(reversed(ada))
    assert _ids(shop.json("purchases", "list", "--status", "failed")) == [made["declined"]]
    assert _ids(shop.json("purchases", "list", "--status", "refunded")) == [ada[1]]
    paid = shop.json("purchases", "list", "--status", "succeeded", "--user", "ada")
    assert _ids(paid) == [ada[2], ada[0]]
    by_id = {p["transaction_id"]: p for p in everything["purchases"]}
    since = by_id[bob[0]]["created_at"]
    assert _ids(shop.json("purchases", "list", "--since", since)) == [made["declined"], bob[0]]
    assert _ids(shop.json("purchases", "list", "--since", "2999-01-01")) == []
    table = shop.ok("purchases", "list", "--limit", "3")
    assert table.splitlines()[0].split()[:3] == ["CREATED", "(UTC)", "TRANSACTION"]
    assert made["declined"] in table and "192.00 usd" in table
    assert table.splitlines()[-1].startswith("next page: --cursor ")
    assert shop.cli("purchases", "list", "--status", "lost").returncode == 2
    assert shop.cli("purchases", "list", "--since", "2026-11-30T10:00").returncode == 2
    assert shop.cli("purchases", "list", "--limit", "0").returncode == 2
    bad_cursor = shop.cli("purchases", "list", "--cursor", "nope")
    assert bad_cursor.returncode == 1 and "invalid cursor" in bad_cursor.stderr

    # show: everything, refunds, risk -----------------------------------------------------
    shown = shop.json("purchases", "show", ada[0])
    assert shown == by_id[ada[0]]
    assert shown["refunded_cents"] == 500 and [r["amount_cents"] for r in shown["refunds"]] == [500]
    assert shown["shipping_address"]["name"] == "Ada Lovelace"
    text = shop.ok("purchases", "show", ada[0])
    assert "total:" in text and "192.00 usd" in text and "refund:" in text
    assert shown["stripe_response"]["outcome"]["risk_level"] == "normal"  # the stand-in's
    assert "risk:                 normal" in text
    declined = shop.json("purchases", "show", made["declined"])
    assert declined["stripe_response"]["outcome"]["type"] == "issuer_declined"
    assert "dispute:              -" in text

    # disputes: only the disputed purchase, and what an operator needs to answer it -------
    disputed = await _disputed_purchase(shop)
    assert _ids(shop.json("purchases", "list", "--disputed")) == [disputed]
    assert _ids(shop.json("purchases", "list", "--disputed", "--user", "ada")) == []
    dispute = shop.json("purchases", "show", disputed)["dispute"]
    assert dispute["status"] == "needs_response" and dispute["amount_cents"] > 0
    shown_dispute = shop.ok("purchases", "show", disputed)
    assert f"{dispute['dispute_id']} needs_response" in shown_dispute
    assert "evidence due 20" in shown_dispute
    missing = shop.cli("purchases", "show", "no-such-tx")
    assert missing.returncode == 1 and "no purchase" in missing.stderr

    # export ----------------------------------------------------------------------------
    before = json.loads(shop.ok("users", "export", "ada"))
    assert [p["transaction_id"] for p in before["purchases"]] == list(reversed(ada))
    assert before["purchases"][0]["receipt_email"] == "ada@example.com"
    assert before["cards"][0]["name_on_card"] == "Ada Lovelace"
    sent = {(e["type"], e["subject"]) for e in before["fulfillment_events"]}
    assert ("card.saved", f"card:{before['cards'][0]['card_id']}") in sent
    assert {("purchase.succeeded", f"purchase:{tx}") for tx in ada} <= sent
    assert ("purchase.refunded", f"purchase:{ada[1]}") in sent
    customer = before["user"]["stripe_customer_id"]
    assert customer.startswith("cus_") and _customer_exists(shop, customer)
    out = shop.data_dir / "ada-export.json"
    shop.ok("users", "export", "ada", "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text())["purchases"] == before["purchases"]
    again = shop.cli("users", "export", "ada", "--out", str(out))
    assert again.returncode == 1 and "exists" in again.stderr
    assert shop.cli("users", "export", "nobody").returncode == 1

    # forget ----------------------------------------------------------------------------
    refused = shop.cli("users", "forget", "ada", stdin="bob\n")
    assert refused.returncode == 1 and "not confirmed" in refused.stderr
    assert json.loads(shop.ok("users", "export", "ada"))["purchases"] == before["purchases"]
    done = shop.cli("users", "forget", "ada", stdin="ada\n")
    assert done.returncode == 0, done.stderr
    assert "1 card(s) and 3 purchase(s) erased" in done.stdout and customer in done.stdout
    after = json.loads(shop.ok("users", "export", "ada"))
    text = json.dumps(after)
    for personal in ("Ada Lovelace", "St James", "London", "SW1Y", "ada@example.com"):
        assert personal not in text
    assert all(c["name_on_card"] is None for c in after["cards"])
    assert [(c["active"], c["status"]) for c in after["cards"]] == [(False, "cancelled")]
    assert after["user"].get("stripe_customer_id") is None
    assert not _customer_exists(shop, customer)
    kept = ("transaction_id", "status", "total_cents", "refunded_cents", "created_at")
    for old, new in zip(before["purchases"], after["purchases"], strict=True):
        assert {k: new[k] for k in kept} == {k: old[k] for k in kept}
        assert new["items"] == old["items"] and new["refunds"] == old["refunds"]
        assert new["payment_intent_id"] == old["payment_intent_id"]
        assert new["shipping_address"]["country"] == "GB"
        assert new["receipt_email"] is None
    twice = shop.cli("users", "forget", "ada", "--yes")
    assert twice.returncode == 0, twice.stderr
    assert "0 card(s) and 0 purchase(s) erased" in twice.stdout
    assert json.loads(shop.ok("users", "export", "ada"))["purchases"] == after["purchases"]
    assert _ids(shop.json("purchases", "list", "--user", "bob")) == [made["declined"], bob[0]]
    assert "Robert Nesta" in shop.ok("users", "export", "bob")  # another fan's data stays

    # a retried requestId of the forgotten fan charges nothing ------------------------------
    c = await shop.client("ada")
    charges_before = _intents(shop)
    retry = await c.call(
        "purchase-request",
        {"cardId": made["ada"]["card"], "items": await cart(c), "shippingAddress": ADDRESS},
        request_id="ada-0",
    )
    await c.close()
    assert retry["message"]["code"] == "request_id_reused"
    assert _intents(shop) == charges_before


def _customer_exists(shop: Shop, customer: str) -> bool:
    found = httpx.get(
        f"{shop.api_base}/v1/customers/{customer}", headers={"Authorization": f"Bearer {KEY}"}
    )
    assert found.status_code in (200, 404), found.text
    return found.status_code == 200


def _intents(shop: Shop) -> int:
    page = httpx.get(
        f"{shop.api_base}/v1/payment_intents",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {KEY}"},
    ).json()
    return len(page["data"])
