"""200 purchases, each sent 3 times (two at the same moment on different connections, one
later): exactly 200 PaymentIntents and 200 records."""

from __future__ import annotations

import asyncio
import uuid

from tests.e2e.helpers import cart
from tests.faults.conftest import Stack, check_ledger
from tests.figures import report
from tests.shipping import ADDRESS
from tests.stripe_browser import create_payment_method

FANS, PER_FAN = 10, 20


async def fan_storm(stack: Stack, user: str, items: list[dict]) -> list[set[str]]:
    tabs = [await stack.client(user) for _ in range(3)]
    try:
        pm = create_payment_method(stack.localstripe.api_base, "4242424242424242")
        saved = await tabs[0].call("create-payment-method", {"stripePayment": pm})
        request = {"cardId": saved["message"]["uuid"], "items": items, "shippingAddress": ADDRESS}
        seen = []
        for n in range(PER_FAN):
            rid = f"{user}-{n}"
            together = await asyncio.gather(
                tabs[0].call("purchase-request", request, request_id=rid),
                tabs[1].call("purchase-request", request, request_id=rid),
            )
            later = await tabs[2].call("purchase-request", request, request_id=rid)
            seen.append({r["message"]["transactionId"] for r in [*together, later]})
            assert {r["action"] for r in [*together, later]} == {"purchase-request-resp-success"}
        return seen
    finally:
        for tab in tabs:
            await tab.close()


async def test_duplicate_storm(stack: Stack) -> None:
    stack.start()
    users = [f"storm-{n}-{uuid.uuid4().hex[:6]}" for n in range(FANS)]
    probe = await stack.client(users[0])
    items = (await cart(probe))[:1]
    await probe.close()
    results = await asyncio.gather(*(fan_storm(stack, u, items) for u in users))
    assert all(len(txs) == 1 for per_fan in results for txs in per_fan)  # one outcome each
    figures = check_ledger(stack, set(users), {f"{u}-{n}" for u in users for n in range(PER_FAN)})
    report(f"storm: frames {FANS * PER_FAN * 3}, {figures}")
    assert figures["PaymentIntents"] == figures["records"] == FANS * PER_FAN
