"""`couchpay refund` against a running server's Stripe: partial, repeated, full, refused."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from tests.e2e.helpers import cart
from tests.faults.conftest import KEY, Stack
from tests.shipping import ADDRESS
from tests.stripe_browser import create_payment_method


def refund(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")} | stack.env()
    return subprocess.run(
        [sys.executable, "-m", "couchpay.entrypoints.cli", "refund", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def refunds_at_stripe(stack: Stack, pi: str) -> list[int]:
    page = httpx.get(
        f"{stack.localstripe.api_base}/v1/refunds",
        params={"payment_intent": pi, "limit": 100},
        headers={"Authorization": f"Bearer {KEY}"},
    ).json()
    return sorted(r["amount"] for r in page["data"])


async def test_refund_command(stack: Stack) -> None:
    stack.start()
    client = await stack.client("refund-fan")
    pm = create_payment_method(stack.localstripe.api_base, "4242424242424242")
    card = (await client.call("create-payment-method", {"stripePayment": pm}))["message"]["uuid"]
    paid = await client.call(
        "purchase-request",
        {"cardId": card, "items": await cart(client), "shippingAddress": ADDRESS},
    )
    await client.close()
    tx = paid["message"]["transactionId"]
    (record,) = stack.records({"refund-fan"})
    pi = record["payment_intent_id"]

    first = refund(stack, tx, "--amount", "500")
    assert first.returncode == 0, first.stderr
    assert "500 cents succeeded" in first.stdout and "500 of 19200 cents refunded" in first.stdout
    again = refund(stack, tx, "--amount", "500")
    assert "already done" in again.stdout
    assert refunds_at_stripe(stack, pi) == [500]  # the re-run refunded nothing more
    too_much = refund(stack, tx, "--amount", "19000")
    assert too_much.returncode == 1 and "between 1 and 18700" in too_much.stderr
    rest = refund(stack, tx)
    assert "purchase" in rest.stdout and "is refunded, 19200 of 19200" in rest.stdout
    assert refunds_at_stripe(stack, pi) == [500, 18700]
    unknown = refund(stack, "no-such-transaction")
    assert unknown.returncode == 1 and "No purchase" in unknown.stderr


async def test_refund_command_under_a_dispute(stack: Stack) -> None:
    """An operator cannot refund a charge whose dispute is open (Stripe refuses it) nor one
    whose dispute was lost (the bank already gave the money back); once won, they can, and the
    command says so. The dispute reaches couchpay as a signed webhook naming the real dispute."""
    stack.start()
    client = await stack.client("disputed-fan")
    pm = create_payment_method(stack.localstripe.api_base, "4000000000000259")
    card = (await client.call("create-payment-method", {"stripePayment": pm}))["message"]["uuid"]
    paid = await client.call(
        "purchase-request",
        {"cardId": card, "items": await cart(client), "shippingAddress": ADDRESS},
    )
    await client.close()
    tx = paid["message"]["transactionId"]
    (record,) = stack.records({"disputed-fan"})
    found = httpx.get(
        f"{stack.localstripe.api_base}/v1/disputes",
        params={"payment_intent": record["payment_intent_id"]},
        headers={"Authorization": f"Bearer {KEY}"},
    ).json()["data"]
    (dispute,) = found
    hook = stack.post_event("evt_dispute_cli_1", "charge.dispute.created", dispute)
    assert hook.status_code == 200

    refused = refund(stack, tx)
    assert refused.returncode == 1
    assert f"dispute {dispute['id']} is open (needs_response)" in refused.stderr
    assert refunds_at_stripe(stack, record["payment_intent_id"]) == []

    httpx.post(
        f"{stack.localstripe.api_base}/v1/disputes/{dispute['id']}",
        data={"evidence[uncategorized_text]": "winning_evidence"},
        headers={"Authorization": f"Bearer {KEY}"},
    ).raise_for_status()
    assert (
        stack.post_event("evt_dispute_cli_2", "charge.dispute.closed", dispute).status_code == 200
    )
    done = refund(stack, tx, "--amount", "500")
    assert done.returncode == 0, done.stderr
    assert f"dispute {dispute['id']} won" in done.stdout
