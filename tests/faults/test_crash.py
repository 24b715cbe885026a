"""kill -9 of the server at each step of a purchase; restart; retries, webhooks, reconcile.

Afterwards every PaymentIntent localstripe holds for us matches exactly one record with the
same amount and outcome, no record is lost, no requestId was charged twice, nothing is left
pending."""

from __future__ import annotations

import asyncio
import signal
import uuid

import pytest

from couchpay.service.failpoints import POINTS
from tests.e2e.helpers import cart
from tests.faults.conftest import Stack, check_ledger
from tests.figures import report
from tests.shipping import ADDRESS
from tests.stripe_browser import create_payment_method

FANS, PER_FAN = 3, 4


async def save_card(stack: Stack, user: str) -> str:
    client = await stack.client(user)
    try:
        pm = create_payment_method(stack.localstripe.api_base, "4242424242424242")
        reply = await client.call("create-payment-method", {"stripePayment": pm})
        return str(reply["message"]["uuid"])
    finally:
        await client.close()


async def send_all(stack: Stack, plan: list[tuple[str, str, str]], items: list[dict]) -> list:
    """Every purchase of the plan at once, one connection per fan; errors are results."""
    clients = {user: await stack.client(user) for user, _, _ in plan}
    try:
        return await asyncio.gather(
            *(
                clients[user].call(
                    "purchase-request",
                    {"cardId": card, "items": items, "shippingAddress": ADDRESS},
                    request_id=rid,
                    timeout=30,
                )
                for user, card, rid in plan
            ),
            return_exceptions=True,
        )
    finally:
        for c in clients.values():
            await c.close()


@pytest.mark.parametrize("point", POINTS)
async def test_kill_9_at_each_step_loses_nothing_and_charges_once(stack: Stack, point: str) -> None:
    stack.start(failpoint=point)
    users = [f"fan-{point}-{n}-{uuid.uuid4().hex[:6]}" for n in range(FANS)]
    cards = {u: await save_card(stack, u) for u in users}
    first = await stack.client(users[0])
    items = await cart(first)
    await first.close()
    plan = [(u, cards[u], f"{u}-buy-{k}") for u in users for k in range(PER_FAN)]

    replies = await send_all(stack, plan, items)
    assert stack.proc is not None
    assert stack.proc.wait(30) == -signal.SIGKILL  # it died at the failpoint, as kill -9
    lost = sum(1 for r in replies if isinstance(r, BaseException))

    stack.start()  # same port, same database, same Stripe
    retries = await send_all(stack, plan, items)  # the page retries with the same requestIds
    assert not [r for r in retries if isinstance(r, BaseException)]
    summary = stack.reconcile()
    figures = check_ledger(stack, set(users), {rid for _, _, rid in plan})
    report(f"crash {point}: kills 1, replies lost {lost}, {figures}, reconcile: {summary}")
    assert figures["records"] == FANS * PER_FAN


async def test_reconcile_again_changes_nothing(stack: Stack) -> None:
    stack.start()
    assert stack.reconcile().startswith("examined 0")
