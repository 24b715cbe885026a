"""Purchases per second through couchpay against raw PaymentIntent create+confirm per second with
the stripe SDK, same localstripe, same concurrency, same store size; and the Stripe calls
couchpay makes per saved-card purchase, counted by a proxy (not assumed).

couchpay: N WebSocket clients (one user and saved card each, demo cart, 19,200 cents), each
sending ``purchase-request`` and waiting for the reply before the next one. Baseline: N threads
sharing one ``stripe.StripeClient`` configured as couchpay's ``StripeGateway`` configures it,
each creating PaymentIntents with the parameters ``StripeGateway.pay`` sends (customer, saved
payment method, amount, currency, ``confirm=True``, metadata, idempotency key). Rounds run in
ABBA order, so the machine's drift weighs on both sides alike, and localstripe is emptied before
each one (new users, new cards), so each starts from the same store size. The CPU seconds each
process spent are kept (``details.levels``): on a small machine they explain the ratio."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import stripe
import websockets
from tests.faults.proxy import FaultProxy
from tests.stripe_browser import create_payment_method

from bench.report import Row, Section
from bench.servers import CouchpayServer
from bench.stack import SECRET_KEY, VISA, connect, demo_cart, save_card
from couchpay.offline_stripe.process import LocalStripe

SUCCESS = "purchase-request-resp-success"
ADDRESS = {  # the demo cart holds the poster, which ships
    "name": "Bench Fan",
    "line1": "1 Test Street",
    "city": "London",
    "postalCode": "SW1Y 4JH",
    "country": "GB",
}
TOTAL_CENTS = 19200  # the demo cart: 17000 + 1700 streaming + 500 shipping
_ID = re.compile(r"/(pm|pi|cus|ch|seti|re|pi_[a-z0-9]+_secret)_[A-Za-z0-9_]+")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def endpoint(method: str, path: str) -> str:
    return f"{method} {_ID.sub('/{id}', path.split('?', 1)[0])}"


# counting ------------------------------------------------------------------------------------
async def _count_calls(
    server: CouchpayServer, api_base: str, proxy: FaultProxy, n: int
) -> dict[str, Any]:
    client = await connect(server, "bench-count-fan")
    try:
        card = await save_card(client, api_base, VISA)
        cart = await demo_cart(client)
        before = len(proxy.seen)
        failures = 0
        for _ in range(n):
            reply = await client.call(
                "purchase-request",
                {"cardId": card, "items": cart, "shippingAddress": ADDRESS},
                str(uuid.uuid4()),
            )
            failures += reply["action"] != SUCCESS
        calls = proxy.seen[before:]
    finally:
        await client.close()
    return {
        "purchases": n,
        "failures": failures,
        "stripe_calls": len(calls),
        "calls_per_purchase": len(calls) / n,
        "by_endpoint": dict(Counter(endpoint(c.method, c.path) for c in calls)),
        "idempotency_keys": sum(1 for c in calls if c.idempotency_key),
    }


# couchpay side -------------------------------------------------------------------------------
class Buyers:
    """``count`` users with a saved card each (new users for every round: localstripe is flushed
    between rounds), one open socket per user while a round runs."""

    def __init__(self, server: CouchpayServer, api_base: str, tag: str, count: int) -> None:
        self.server, self.api_base, self.count = server, api_base, count
        self.users = [f"bench-buyer-{tag}-{i}" for i in range(count)]
        self.cards: list[str] = []
        self.cart: list[dict[str, Any]] = []

    async def prepare(self) -> None:
        async def one(user: str) -> str:
            client = await connect(self.server, user)
            try:
                if not self.cart:
                    self.cart = await demo_cart(client)
                return await save_card(client, self.api_base, VISA)
            finally:
                await client.close()

        self.cards = [await one(self.users[0])]
        self.cards += await asyncio.gather(*(one(u) for u in self.users[1:]))

    async def run(self, each: int, warmup: int = 1) -> tuple[float, int]:
        """Every user buys ``warmup`` times untimed, then ``each`` times; (seconds, failures)."""
        sockets = [
            await websockets.connect(self.server.socket_url(u), max_size=2**20) for u in self.users
        ]
        failures = 0

        async def buyer(i: int, n: int) -> int:
            ws, bad = sockets[i], 0
            for _ in range(n):
                rid = str(uuid.uuid4())
                message = {"cardId": self.cards[i], "items": self.cart, "shippingAddress": ADDRESS}
                await ws.send(
                    json.dumps({"action": "purchase-request", "message": message, "requestId": rid})
                )
                reply = json.loads(await ws.recv())
                bad += reply.get("action") != SUCCESS or reply.get("requestId") != rid
            return bad

        try:
            everyone = range(self.count)
            await asyncio.wait_for(asyncio.gather(*(buyer(i, warmup) for i in everyone)), 300)
            started = time.perf_counter()
            bad = await asyncio.wait_for(asyncio.gather(*(buyer(i, each) for i in everyone)), 600)
            failures = sum(bad)
            return time.perf_counter() - started, failures
        finally:
            for ws in sockets:
                await ws.close()


# baseline side -------------------------------------------------------------------------------
class RawSdk:
    """The stripe SDK alone: one client built as ``StripeGateway`` builds it, ``count`` customers
    with a saved (attached) card each, one thread per customer while a round runs."""

    def __init__(self, api_base: str, tag: str, count: int) -> None:
        self.client = stripe.StripeClient(
            SECRET_KEY,
            base_addresses={"api": api_base},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=30.0),
        )
        self.api_base, self.count = api_base, count
        self.users = [f"bench-raw-{tag}-{i}" for i in range(count)]
        self.payers: list[tuple[str, str]] = []  # (customer, payment method)

    def prepare(self) -> None:
        for user in self.users:
            customer = self.client.v1.customers.create(
                {"metadata": {"couchpay_user_id": user}},
                options={"idempotency_key": f"customer-{uuid.uuid4()}"},
            )
            pm = create_payment_method(self.api_base, VISA)["id"]
            self.client.v1.payment_methods.attach(
                pm, {"customer": customer.id}, options={"idempotency_key": f"attach-{pm}"}
            )
            self.payers.append((customer.id, pm))

    def pay(self, i: int) -> bool:
        customer, pm = self.payers[i]
        tx = str(uuid.uuid4())
        intent = self.client.v1.payment_intents.create(
            {
                "amount": TOTAL_CENTS,
                "currency": "usd",
                "payment_method": pm,
                "allowed_payment_method_types": ["card"],
                "confirm": True,
                "metadata": {"transaction_id": tx, "user_id": self.users[i]},
                "customer": customer,
            },
            options={"idempotency_key": f"purchase-{tx}"},
        )
        return intent.status == "succeeded"

    def run(self, each: int, warmup: int = 1) -> tuple[float, int]:
        """Each customer pays ``warmup`` times untimed, then ``each`` times: (seconds, failures)."""
        lock = threading.Lock()
        failures = 0
        ready = threading.Barrier(self.count + 1)
        go = threading.Barrier(self.count + 1)

        def payer(i: int) -> None:
            nonlocal failures
            for _ in range(warmup):
                self.pay(i)
            ready.wait(300)
            go.wait(300)
            bad = 0
            for _ in range(each):
                try:
                    bad += not self.pay(i)
                except stripe.StripeError:
                    bad += 1
            with lock:
                failures += bad

        with ThreadPoolExecutor(self.count) as pool:
            futures = [pool.submit(payer, i) for i in range(self.count)]
            ready.wait(300)
            go.wait(300)
            started = time.perf_counter()
            for f in futures:
                f.result(600)
            return time.perf_counter() - started, failures


# the benchmark -------------------------------------------------------------------------------
def run(
    workdir: Path,
    concurrencies: tuple[int, ...] = (1, 8, 32),
    per_round: dict[int, int] | None = None,
    count_purchases: int = 30,
    abba: bool = True,
) -> Section:
    """``per_round[c]``: purchases per round at concurrency c (rounded to a multiple of c)."""
    started = time.perf_counter()
    per_round = per_round or {1: 150, 8: 400, 32: 640}
    section = Section("purchase")
    with LocalStripe() as localstripe:
        with (
            FaultProxy(localstripe.api_base) as proxy,
            CouchpayServer(workdir / "purchase-count", proxy.url) as counting,
        ):
            counted = asyncio.run(
                _count_calls(counting, localstripe.api_base, proxy, count_purchases)
            )
        section.details["counted"] = counted

        levels: list[dict[str, Any]] = []
        # no concurrency levels: only the counted calls (./scripts/bench retired the
        # purchases/s rows, which measured couchpay's overhead at zero Stripe latency)
        rounds: Any = (
            CouchpayServer(workdir / "purchase", localstripe.api_base)
            if concurrencies
            else contextlib.nullcontext()
        )
        with rounds as server:
            for c in concurrencies:
                each = max(1, per_round.get(c, 10 * c) // c)
                order = ["raw", "couchpay", "couchpay", "raw"] if abba else ["raw", "couchpay"]
                totals = {"raw": [0.0, 0, 0], "couchpay": [0.0, 0, 0]}  # seconds, n, failures
                # CPU seconds: couchpay serve, localstripe, this process (the clients)
                cpu = {"raw": [0.0, 0.0, 0.0], "couchpay": [0.0, 0.0, 0.0]}
                for k, side in enumerate(order):
                    # Same store size for every round: localstripe spends time linear in the
                    # number of objects it holds on each PaymentIntent (it lists charges and
                    # refunds by scanning its whole store), so it is emptied before each round.
                    localstripe.flush()
                    tag = f"c{c}-r{k}"
                    payers: Buyers | RawSdk
                    if side == "raw":
                        payers = RawSdk(localstripe.api_base, tag, c)
                        payers.prepare()
                    else:
                        payers = Buyers(server, localstripe.api_base, tag, c)
                        asyncio.run(payers.prepare())
                    ls0, srv0 = cpu_seconds(localstripe.pid or 0), cpu_seconds(server.pid)
                    me0 = time.process_time()
                    if isinstance(payers, RawSdk):
                        seconds, failed = payers.run(each)
                    else:
                        seconds, failed = asyncio.run(payers.run(each))
                    cpu[side][0] += cpu_seconds(server.pid) - srv0
                    cpu[side][1] += cpu_seconds(localstripe.pid or 0) - ls0
                    cpu[side][2] += time.process_time() - me0
                    totals[side][0] += seconds
                    totals[side][1] += c * each
                    totals[side][2] += failed
                level: dict[str, Any] = {
                    "concurrency": c,
                    "purchases_per_round": c * each,
                    "rounds": order,
                    "store_at_round_start": f"{c} customers, {c} cards, {c} PaymentIntents",
                }
                for side, (seconds, n, failed) in totals.items():
                    level[side] = {
                        "purchases": n,
                        "seconds": round(seconds, 3),
                        "per_second": n / seconds,
                        "failures": failed,
                        "couchpay_cpu_ms_per_purchase": 1000 * cpu[side][0] / n,
                        "localstripe_cpu_ms_per_purchase": 1000 * cpu[side][1] / n,
                        "client_cpu_ms_per_purchase": 1000 * cpu[side][2] / n,
                    }
                levels.append(level)
        section.details["levels"] = levels

    for level in levels:
        c = level["concurrency"]
        failures = level["couchpay"]["failures"] + level["raw"]["failures"]
        row = Row(
            f"purchases/s, {c} client{'s' if c > 1 else ''}",
            "/s",
            level["couchpay"]["per_second"],
            level["raw"]["per_second"],
            ">= 0.9",
            group="purchase",
        )
        if failures:
            row.note = f"{failures} purchases failed"
        section.rows.append(row)
    calls = Row(
        "Stripe calls per saved-card purchase",
        "calls",
        counted["calls_per_purchase"],
        1.0,
        "== 1",
        on_value=True,
        group="purchase",
        note=", ".join(f"{k} x{v}" for k, v in counted["by_endpoint"].items())
        + f" over {counted['purchases']} purchases",
    )
    section.rows.append(calls)
    section.seconds = time.perf_counter() - started
    return section
