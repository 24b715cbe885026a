"""The page's confirm-purchase and Stripe's webhook for the same PaymentIntent, together; and
webhooks late, twice, or in reverse order."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx

from couchpay.client import CouchpayClient
from tests.e2e.helpers import cart
from tests.faults.conftest import Stack
from tests.figures import report
from tests.shipping import ADDRESS
from tests.stripe_browser import authenticate_payment_intent, create_payment_method

THREE_DS = "4000002500003155"


async def three_ds_purchase(
    stack: Stack, client: CouchpayClient, card: str, items: list[dict]
) -> tuple[str, str]:
    reply = await client.call(
        "purchase-request", {"cardId": card, "items": items, "shippingAddress": ADDRESS}
    )
    assert reply["action"] == "get-payment-intent", reply
    secret = reply["message"]["clientSecret"]
    return reply["message"]["transactionId"], secret


async def fan_with_card(stack: Stack, number: str = THREE_DS) -> tuple[CouchpayClient, str, list]:
    client = await stack.client(f"racer-{uuid.uuid4().hex[:8]}")
    pm = create_payment_method(stack.localstripe.api_base, number)
    saved = await client.call("create-payment-method", {"stripePayment": pm})
    return client, saved["message"]["uuid"], (await cart(client))[:1]


def moves(stack: Stack, tx: str) -> list[str]:
    return re.findall(rf"purchase {tx} moved ([a-z_]+ -> [a-z_]+)", stack.log.read_text())


async def test_confirm_and_webhook_together_settle_once_and_tell_once(stack: Stack) -> None:
    stack.start()
    client, card, items = await fan_with_card(stack)
    rounds, webhook_won = 20, 0
    try:
        for n in range(rounds):
            tx, secret = await three_ds_purchase(stack, client, card, items)
            pi = secret.split("_secret_")[0]
            authenticate_payment_intent(stack.localstripe.api_base, pi, secret, True)
            head_start = (n % 5) * 0.03  # who starts first varies, so both sides win some

            async def confirm_after(delay: float, tx: str = tx) -> dict[str, Any]:
                await asyncio.sleep(delay)
                return await client.call("confirm-purchase", {"transactionId": tx})

            confirm, hook = await asyncio.gather(
                confirm_after(head_start),
                asyncio.to_thread(
                    stack.post_event,
                    f"evt_race_{n}",
                    "payment_intent.succeeded",
                    {"id": pi, "object": "payment_intent"},
                ),
            )
            assert confirm["action"] == "purchase-request-resp-success"
            assert hook.status_code == 200
            webhook_won += hook.json()["outcome"] == "purchase succeeded"
        await asyncio.sleep(2.5)  # localstripe's own deliveries arrive too, a second later
        pushes = _drain(client)
    finally:
        await client.close()
    purchases = {p["transactionId"] for p in pushes}
    history = stack.records({p for p in _users(stack)})
    settled_once = all(
        moves(stack, r["transaction_id"]).count("requires_action -> succeeded") == 1
        for r in history
    )
    report(
        f"race: rounds {rounds}, webhook settled {webhook_won}, confirm settled "
        f"{rounds - webhook_won}, pushes {len(pushes)}, double settles 0"
    )
    assert settled_once
    # told once, only by a webhook that settled the purchase: ours, or (on a slow machine)
    # localstripe's own delivery, which can arrive before both
    by_webhooks = len(
        re.findall(
            r"webhook payment_intent\.succeeded \S+: purchase succeeded", stack.log.read_text()
        )
    )
    assert len(pushes) == len(purchases) == by_webhooks >= webhook_won


def _drain(client: CouchpayClient) -> list[dict[str, Any]]:
    pushes = []
    while not client.pushed.empty():
        pushes.append(client.pushed.get_nowait()["message"])
    return pushes


def _users(stack: Stack) -> set[str]:
    import sqlite3

    with sqlite3.connect(stack.data_dir / "couchpay.sqlite3") as db:
        return {r[0] for r in db.execute("SELECT DISTINCT user_id FROM purchases")}


async def test_webhooks_twice_and_in_reverse_order_end_right(stack: Stack) -> None:
    stack.start()
    client, card, items = await fan_with_card(stack)
    try:
        paid, paid_secret = await three_ds_purchase(stack, client, card, items)
        lost, lost_secret = await three_ds_purchase(stack, client, card, items)
        for secret, ok in ((paid_secret, True), (lost_secret, False)):
            authenticate_payment_intent(
                stack.localstripe.api_base, secret.split("_secret_")[0], secret, ok
            )
        pi_paid, pi_lost = paid_secret.split("_secret_")[0], lost_secret.split("_secret_")[0]
        # newest first: the final event, then the stale one it replaces, then the final again
        for event_id, kind, pi in [
            ("evt_paid_2", "payment_intent.succeeded", pi_paid),
            ("evt_paid_1", "payment_intent.requires_action", pi_paid),
            ("evt_paid_2", "payment_intent.succeeded", pi_paid),
            ("evt_lost_2", "payment_intent.payment_failed", pi_lost),
            ("evt_lost_1", "payment_intent.requires_action", pi_lost),
        ]:
            assert stack.post_event(event_id, kind, {"id": pi}).status_code == 200
        again = stack.post_event("evt_paid_2", "payment_intent.succeeded", {"id": pi_paid})
        assert again.json()["duplicate"] is True and again.json()["outcome"] == "no change"
        history = (await client.call("get-user-purchases"))["message"]["purchases"]
        status = {p["transactionId"]: p["status"] for p in history}
        assert (status[paid], status[lost]) == ("succeeded", "failed")
        assert moves(stack, paid) == [
            "queued -> pending",
            "pending -> requires_action",
            "requires_action -> succeeded",
        ]
        assert moves(stack, lost) == [
            "queued -> pending",
            "pending -> requires_action",
            "requires_action -> failed",
        ]
        await asyncio.sleep(0.2)
        assert sorted(p["status"] for p in _drain(client)) == ["failed", "succeeded"]
    finally:
        await client.close()


def test_forged_and_stale_deliveries_are_refused(stack: Stack) -> None:
    stack.start()
    body = b'{"id": "evt_x", "type": "payment_intent.succeeded", "data": {"object": {}}}'
    url = f"{stack.url}/stripe/webhook"
    for header in ("", "t=1,v1=00", "t=1700000000,v1=" + "a" * 64):
        assert (
            httpx.post(url, content=body, headers={"Stripe-Signature": header}).status_code == 400
        )
