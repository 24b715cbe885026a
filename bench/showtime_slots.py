"""The second showtime scenario: M fans for C meet-and-greet slots (the catalog item gets
``capacity`` C through ``couchpay catalog update ITEM --capacity C``): exactly C paid, M - C
``sold_out``, and no Stripe call for the fans who were not paid (the stand-in counts every
PaymentIntent request per transaction). "Not available" while the CLI has no ``--capacity``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.report import Row
from bench.servers import child_env
from bench.showtime_fans import cart_of, items, measured_burst, prepare, server_for
from couchpay.offline_stripe.process import LocalStripe
from couchpay.offline_stripe.realism_harness import RealismProcess

CLI = [sys.executable, "-m", "couchpay.entrypoints.cli"]


def capacity_option(data_dir: Path) -> bool:
    done = subprocess.run(  # noqa: S603 - our interpreter, our CLI
        [*CLI, "catalog", "update", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=child_env({"COUCHPAY_DATA_DIR": str(data_dir)}),
    )
    return "--capacity" in done.stdout


def capacity(
    data_dir: Path, localstripe: LocalStripe, stand_in: RealismProcess, m: int, c: int, limit: int
) -> dict[str, Any]:
    data_dir.mkdir(parents=True, exist_ok=True)
    if not capacity_option(data_dir):
        return {"available": False, "why": "`couchpay catalog update` has no --capacity option"}
    with server_for(data_dir, localstripe, stand_in, limit) as server:
        slot = next(i for i in asyncio.run(items(server)) if i["kind"] == "meet_and_greet")
        command = [*CLI, "catalog", "update", str(slot["itemId"]), "--capacity", str(c)]
        subprocess.run(  # noqa: S603 - our interpreter, our CLI, an item id it gave us
            command,
            check=True,
            capture_output=True,
            timeout=60,
            env=child_env({"COUCHPAY_DATA_DIR": str(data_dir)}),
        )
        fans = asyncio.run(prepare(server, stand_in.url, [f"showtime-mg-{i}" for i in range(m)]))
        wait = 2 * m / limit + 30
        run = measured_burst(server, stand_in, fans, cart_of(slot), wait)
    paid = {f.transaction for f in fans if f.outcome == "paid"}
    reached = set(run["stand_in"]["intent_requests_by_transaction"]) - {"(none)"}
    outcomes = Counter(f.outcome for f in fans)
    return {
        "available": True,
        "outcomes": dict(outcomes),
        "paid": outcomes["paid"],
        "sold_out": outcomes["sold_out"],
        "unpaid_transactions_sent_to_stripe": len(reached - paid),
        "stripe_calls": run["stand_in"]["calls"],
        "cpu_seconds": run["cpu_seconds"],
    }


def capacity_rows(limited: dict[str, Any], m: int, c: int) -> list[Row]:
    what = f"{m:,} fans for {c} meet-and-greet slots"
    if not limited["available"]:
        note = f"not available: {limited['why']}"
        return [Row(f"showtime: {what}", "fans", None, None, note=note)]
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(limited["outcomes"].items()))
    return [
        Row(f"showtime: paid, {what}", "fans", limited["paid"], c, "== 1", note=outcomes),
        Row(f"showtime: sold_out, {what}", "fans", limited["sold_out"], m - c, "== 1"),
        Row(
            f"showtime: Stripe calls for fans not paid, {what}",
            "calls",
            limited["unpaid_transactions_sent_to_stripe"],
            None,
            "== 0",
            on_value=True,
        ),
    ]
