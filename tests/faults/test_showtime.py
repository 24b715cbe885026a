"""Showtime against real peers: couchpay serve, a Stripe stand-in with Stripe's latency and rate
limits in front of a real localstripe, fans on real sockets. No timing is asserted: who was paid,
how often, in which order, and what each fan was told.

- a small showtime (60 fans, Stripe allowing 10 PaymentIntents a second): everyone paid exactly
  once, places only go down, first in line first at Stripe, a fan who reconnects keeps the place;
- kill -9 with a line of queued purchases: after the restart each is charged once or told
  failed / not_charged, none lost, none charged without its record;
- a duplicate storm while Stripe hangs leaves another fan's wallet, default card and the webhook
  endpoint answering (they answer while the hung purchase is still open).
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path
from typing import Any

import httpx

from couchpay.client import CouchpayClient
from couchpay.offline_stripe.process import LocalStripe
from couchpay.offline_stripe.realism_harness import StripeRealism
from couchpay.offline_stripe.realism_rules import RealismSettings
from tests.e2e.conftest import running_server
from tests.e2e.helpers import cart, save_card
from tests.faults.conftest import Stack, check_ledger
from tests.faults.proxy import FaultProxy
from tests.figures import report
from tests.stripe_browser import create_payment_method

FANS = 60
LIMIT = 10  # PaymentIntents a second the stand-in allows (Stripe's is 25)
SUCCESS = "purchase-request-resp-success"
STORMS_ALLOWED = {  # one fan's storm of copies: the per-user limits are not what this tests
    "COUCHPAY_STRIPE_WRITES_PER_MINUTE": "100000",
    "COUCHPAY_USER_RATE_LIMIT": "100000/100000",
}


async def test_a_small_showtime_pays_everyone_once_first_in_line_first(
    localstripe: LocalStripe, tmp_path: Path
) -> None:
    settings = RealismSettings(
        account_limit=LIMIT,
        endpoint_limit=LIMIT,
        slow_latency=(0.2, 0.4),
        fast_latency=(0.02, 0.05),
        seed=12,
        enabled=False,  # setting up: no limits yet
    )
    env = {"COUCHPAY_STRIPE_RATE": str(LIMIT - 1)}
    with StripeRealism(localstripe.api_base, settings) as stand_in:
        env["STRIPE_API_BASE"] = stand_in.url
        with running_server(tmp_path, env) as server:
            fans = [f"show-{n:02d}-{uuid.uuid4().hex[:6]}" for n in range(FANS)]
            clients = [await server.client(f) for f in fans]
            try:
                cards = [(await save_card(server, c))["uuid"] for c in clients]
                items = (await cart(clients[0]))[:1]
                stand_in.configure(enabled=True)
                stand_in.reset()
                rids = [str(uuid.uuid4()) for _ in fans]
                leaver = FANS - 5  # leaves the page mid-line and comes back

                async def buy(n: int) -> dict[str, Any]:
                    message = {"cardId": cards[n], "items": items}
                    if n != leaver:
                        return await clients[n].call("purchase-request", message, rids[n], 120)
                    return await come_back(server, clients[n], fans[n], message, rids[n])

                replies = await asyncio.gather(*(buy(n) for n in range(FANS)))
            finally:
                for c in clients:
                    await c.close()
            stats = stand_in.stats()

    assert [r["action"] for r in replies] == [SUCCESS] * FANS, replies
    txs = [r["message"]["transactionId"] for r in replies]
    assert len(set(txs)) == FANS
    charged = stats["intents_by_transaction"]
    assert sorted(len(charged[tx]) for tx in txs) == [1] * FANS  # each paid exactly once
    places = {
        tx: [m["position"] for m in c.queued.get(rid, [])]
        for tx, c, rid in zip(txs, clients, rids, strict=True)
    }
    waited = {tx: p for tx, p in places.items() if p}
    assert len(waited) >= FANS - 2 * LIMIT  # the line did its work
    for tx, seen in waited.items():
        assert seen == sorted(seen, reverse=True), (tx, seen)  # places only go down
    arrival = [tx for tx in stats["intent_requests_by_transaction"] if tx in waited]
    first_places = [waited[tx][0] for tx in arrival]
    assert first_places == sorted(first_places)  # first in line, first at Stripe
    report(
        f"small showtime: fans {FANS}, limit {LIMIT}/s, paid {len(txs)}, waited {len(waited)}, "
        f"Stripe calls {stats['calls']}, 429s {stats['rate_limited']}"
    )


async def come_back(
    server: Any, first: CouchpayClient, fan: str, message: dict[str, Any], rid: str
) -> dict[str, Any]:
    """Send, leave the page once told a place, reconnect, send the same requestId again."""
    task = asyncio.create_task(first.call("purchase-request", message, rid, 120))
    while not first.queued.get(rid) and not task.done():
        await asyncio.sleep(0.02)
    if task.done():
        return task.result()
    before = first.queued[rid][-1]["position"]
    await first.close()
    again = await server.client(fan)
    try:
        reply = await again.call("purchase-request", message, rid, 120)
    finally:
        await again.close()
    after = [m["position"] for m in again.queued.get(rid, [])]
    assert all(p <= before for p in after), (before, after)  # the place is kept
    return reply


async def test_kill_9_with_a_line_loses_nobody_and_charges_once(stack: Stack) -> None:
    stack.start(COUCHPAY_STRIPE_RATE="2")  # a long line, slowly
    users = [f"line-{n}-{uuid.uuid4().hex[:6]}" for n in range(3)]
    clients = {u: await stack.client(u) for u in users}
    cards = {}
    for u, c in clients.items():
        pm = create_payment_method(stack.localstripe.api_base, "4242424242424242")
        cards[u] = (await c.call("create-payment-method", {"stripePayment": pm}))["message"]
    items = (await cart(clients[users[0]]))[:1]
    plan = [(u, f"{u}-buy-{k}") for u in users for k in range(5)]
    calls = [
        asyncio.create_task(
            clients[u].call("purchase-request", {"cardId": cards[u]["uuid"], "items": items}, rid)
        )
        for u, rid in plan
    ]
    while sum(len(c.queued) for c in clients.values()) < 10:
        await asyncio.sleep(0.05)
    assert stack.proc is not None
    stack.proc.send_signal(signal.SIGKILL)
    assert stack.proc.wait(30) == -signal.SIGKILL
    await asyncio.gather(*calls, return_exceptions=True)
    for c in clients.values():
        await c.close()

    stack.start()
    clients = {u: await stack.client(u) for u in users}
    try:
        retries = await asyncio.gather(
            *(
                clients[u].call(
                    "purchase-request", {"cardId": cards[u]["uuid"], "items": items}, rid
                )
                for u, rid in plan
            )
        )
    finally:
        for c in clients.values():
            await c.close()
    outcomes = sorted(
        r["message"].get("code", r["action"]) for r in retries
    )  # paid, or told nothing was charged
    assert set(outcomes) <= {SUCCESS, "not_charged"}, outcomes
    figures = check_ledger(stack, set(users), {rid for _, rid in plan})
    paid = outcomes.count(SUCCESS)
    report(f"kill -9 with a line: purchases {len(plan)}, paid {paid}, {figures}")


async def test_a_duplicate_storm_while_stripe_hangs_slows_nobody_else(
    localstripe: LocalStripe, tmp_path: Path
) -> None:
    with (
        FaultProxy(localstripe.api_base) as proxy,
        running_server(tmp_path, {"STRIPE_API_BASE": proxy.url, **STORMS_ALLOWED}) as server,
    ):
        storm = await server.client("storm-fan")
        other = await server.client("other-fan")
        tabs = [await server.client("storm-fan") for _ in range(5)]
        try:
            card = (await save_card(server, storm))["uuid"]
            mine = await save_card(server, other)
            items = (await cart(storm))[:1]
            proxy.plan("POST", "/v1/payment_intents", ["delay:8"])  # Stripe hangs
            rid = str(uuid.uuid4())
            request = {"cardId": card, "items": items}
            first = asyncio.create_task(storm.call("purchase-request", request, rid, 60))
            await asyncio.sleep(0.3)
            copies = [
                asyncio.create_task(tab.call("purchase-request", request, rid, 60))
                for tab in tabs * 8
            ]
            await asyncio.sleep(0.3)
            wallet = await other.call("get-user-credit-card")
            default = await other.call("set-default-card", {"cardId": mine["uuid"]})
            webhook = httpx.post(f"{server.url}/stripe/webhook", content=b"{}", timeout=30)
            still_open = not first.done()
            outcomes = await asyncio.gather(first, *copies)
        finally:
            for c in (storm, other, *tabs):
                await c.close()
    assert wallet["action"] == "get-user-credit-card-resp-success"
    assert default["action"] == "set-default-card-resp-success"
    assert webhook.status_code == 400  # answered (unsigned), not stuck behind the storm
    assert still_open  # all three answered while the hung purchase was still with Stripe
    assert {o["action"] for o in outcomes} == {SUCCESS}
    assert len({o["message"]["transactionId"] for o in outcomes}) == 1
    assert len(proxy.attempts("POST", "/v1/payment_intents")) == 1
