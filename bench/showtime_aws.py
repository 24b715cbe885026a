"""Showtime on the offline AWS stack: ``aws/serverless.yml`` on serverless-offline (the
``$default`` Lambdas pacing through the shared line's DynamoDB item, on Amazon's DynamoDB Local;
far slots handed through SQS, served by moto, to the ``lineWorker`` Lambda), with the Stripe
stand-in (Stripe's latency and test-mode limits) in front of localstripe, whose webhooks go to
the stack. N fans (100 by default: every concurrent request is a Python process of its own
here) press Pay within one second; the same figures as ``bench.showtime``, as ratios against
what Stripe allows. CPU per purchase is not reported: the work is spread over many processes.

Before the burst every fan's socket sends one ``get-items`` at the same moment, so that
serverless-offline has as many warm ``$default`` processes as there are fans, and the worker is
warmed the same way (on AWS, provisioned concurrency keeps warm instances before a show; a cold
start here is a Python process importing couchpay on a shared 2-core machine, seconds under
load, which would measure the machine, not the line).

The stack's line runs one under the stand-in's limit (``stripeRate``, as an operator sets it);
serverless-offline's Python context says six seconds are left whatever the timeout, so a
request waits at most ~1.5 s itself here (25 s on AWS) and most of a burst goes to the worker."""

from __future__ import annotations

import asyncio
import os
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.stripe_browser import create_payment_method

from bench.report import Row, Section
from bench.servers import raise_open_files
from bench.showtime import _charged_per_fan, _doubles, _main_rows, _outcomes, _trimmed
from bench.showtime_fans import Fan, burst, cart_of
from couchpay.client import CouchpayClient
from couchpay.offline_stripe.process import LocalStripe
from couchpay.offline_stripe.realism_harness import RealismProcess
from couchpay.offline_stripe.realism_rules import ACCOUNT_LIMIT, ENDPOINT_LIMIT

PREPARE_AT_ONCE = 8
LABEL = "showtime on the offline AWS stack"


class StackServer:
    """What the fans' code needs of a server (``bench.showtime_fans``), for the stack."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.ws_url: str = stack.ws_url
        self.pid = 0

    def token(self, user_id: str) -> str:
        return str(self.stack.pool.token(user_id, 3600))

    def socket_url(self, user_id: str) -> str:
        return f"{self.ws_url}?token={self.token(user_id)}"


async def _call(server: StackServer, user: str, action: str, message: dict[str, Any]) -> Any:
    async with await CouchpayClient.connect(server.ws_url, server.token(user)) as client:
        for _ in range(5):  # a cold Lambda under load may answer payment_processing: again
            reply = await client.call(action, message, timeout=120)
            if (reply.get("message") or {}).get("code") != "payment_processing":
                return reply
    return reply


async def _prepare(server: StackServer, api_base: str, users: list[str]) -> list[Fan]:
    gate = asyncio.Semaphore(PREPARE_AT_ONCE)

    async def one(user: str) -> Fan:
        async with gate:
            pm = create_payment_method(api_base, "4242424242424242")
            reply = await _call(server, user, "create-payment-method", {"stripePayment": pm})
        if reply["action"] != "create-payment-method-resp-success":
            raise RuntimeError(f"could not save a card: {reply}")
        return Fan(user, str(reply["message"]["uuid"]))

    return list(await asyncio.gather(*(one(u) for u in users)))


async def _warm(server: StackServer, users: list[str]) -> list[dict[str, Any]]:
    """Every fan's socket asks for the catalog at the same moment (one warm process each)."""
    clients = [await CouchpayClient.connect(server.ws_url, server.token(u)) for u in users]
    try:
        replies = await asyncio.gather(*(c.call("get-items", timeout=300) for c in clients))
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return list(replies[0]["message"]["items"])


async def _records(server: StackServer, fans: list[Fan]) -> dict[str, list[dict[str, Any]]]:
    """Each fan's purchases as couchpay shows them, a few fans at a time (a page that gets no
    answer counts as no purchase: it then disagrees with Stripe in the table)."""
    gate = asyncio.Semaphore(PREPARE_AT_ONCE)

    async def one(fan: Fan) -> tuple[str, list[dict[str, Any]]]:
        async with gate:
            try:
                reply = await _call(server, fan.user, "get-user-purchases", {"limit": 20})
            except TimeoutError:
                return fan.user, []
        return fan.user, list((reply.get("message") or {}).get("purchases") or [])

    return dict(await asyncio.gather(*(one(f) for f in fans)))


def run(workdir: Path, fans: int = 100, mode: str = "test", seed: int = 1) -> Section:
    from tests.aws import dynamodb_local
    from tests.aws.identity import TestUserPool
    from tests.aws.servers import DynamoDbLocal
    from tests.aws.stack import SlsStack, unavailable_reason

    section = Section("showtime-aws")
    reason = unavailable_reason() or dynamodb_local.unavailable_reason()
    if reason is not None:
        section.rows.append(Row(f"{LABEL}: not available ({reason})", "fans", None, None))
        return section
    raise_open_files(4 * fans + 256)
    limit = min(ENDPOINT_LIMIT, ACCOUNT_LIMIT[mode])
    rate = os.environ.get("COUCHPAY_SHOWTIME_RATE") or str(max(1, limit - 1))
    args = ["--mode", mode, "--seed", str(seed), "--disabled"]
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        localstripe = stack.enter_context(LocalStripe())
        stand_in = stack.enter_context(RealismProcess(localstripe.api_base, args))
        dynamodb = stack.enter_context(DynamoDbLocal())
        pool = stack.enter_context(TestUserPool())
        sls = stack.enter_context(
            SlsStack(
                workdir,
                dynamodb,
                localstripe,
                pool,
                stripe_api_base=stand_in.url,
                extra_params={"stripeRate": rate},
            )
        )
        server = StackServer(sls)
        users = [f"aws-showtime-fan-{i}" for i in range(fans)]
        people = asyncio.run(_prepare(server, localstripe.api_base, users))
        catalog = asyncio.run(_warm(server, users))
        sls.warm("couchpay-offline-lineWorker", 10)
        ticket = next(i for i in catalog if i["kind"] == "livestream")
        ideal = fans / limit
        wait = 2 * ideal + 60
        stand_in.reset()
        stand_in.configure(enabled=True)
        started = time.perf_counter()
        t0 = asyncio.run(burst(server, people, cart_of(ticket), wait))  # type: ignore[arg-type]
        stats = stand_in.stats()
        stand_in.configure(enabled=False)
        ours = asyncio.run(_records(server, people))
        charged = _charged_per_fan(localstripe.api_base)
        main = {"t0": t0, "stand_in": stats, "cpu_seconds": 0.0}
        main |= _outcomes(people, t0, wait) | _doubles(stats, charged, ours)
        main["burst_seconds"] = time.perf_counter() - started
        main["line_rate"] = float(rate)
        main["load_average"] = os.getloadavg()
    section.details["limit_per_second"] = limit
    section.details["main"] = {**main, "stand_in": _trimmed(stats)}
    rows = [r for r in _main_rows(main, fans, limit) if "CPU" not in r.benchmark]
    for row in rows:
        row.benchmark = row.benchmark.replace("showtime:", f"{LABEL}:", 1)
    section.rows += rows
    return section


if __name__ == "__main__":  # python -m bench.showtime_aws [FANS]: the table, no files written
    import json
    import sys
    import tempfile

    from bench.report import text_table

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="couchpay-showtime-aws-") as scratch:
        result = run(Path(scratch), fans=size)
    shown = {k: v for k, v in result.details.get("main", {}).items() if k != "stand_in"}
    print(json.dumps(shown, indent=1, default=str))
    print(text_table(result.rows))
    print(f"{time.perf_counter() - began:.0f} s")
