"""Showtime: N fans with saved cards press Pay within one second, against `couchpay serve` whose
Stripe is the stand-in with Stripe's latency and documented limits
(``couchpay.offline_stripe.realism``, test-mode limits: 25 requests/s per account and per
endpoint) in front of localstripe, which sends its webhooks to couchpay as Stripe would.

Figures, each against what Stripe itself allows: the share of fans paid (goal 100 %); the paid
rate (paid fans / (last payment - first press)) against Stripe's PaymentIntent limit (goal
>= 0.95); p50 / p99 time from pressing Pay to the final reply against the ideal first-in,
first-out time N / limit (goal p99 <= 1.2x); Stripe's 429s against Stripe calls (goal <= 1 %);
double charges (0: the stand-in's PaymentIntents per Idempotency-Key and per transaction, and
localstripe's succeeded PaymentIntents per fan against couchpay's records); fans left with
``payment_processing`` and never settled; couchpay's CPU per purchase (/proc of its pid).

Second scenario: M fans for C meet-and-greet slots (``couchpay catalog update ITEM --capacity
C``): exactly C paid, M - C ``sold_out``, and no Stripe call for them. Reported "not available"
while the CLI has no ``--capacity``.

Fans are set up (users, saved cards) with the stand-in's limits and delays off, then its
counters are reset and the limits switched on for the burst alone."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import stripe

from bench import showtime_slots
from bench.report import Row, Section
from bench.servers import raise_open_files
from bench.showtime_fans import (
    Fan,
    cart_of,
    items,
    measured_burst,
    prepare,
    records,
    server_for,
)
from bench.stack import SECRET_KEY, percentile
from couchpay.offline_stripe.process import LocalStripe
from couchpay.offline_stripe.realism_harness import RealismProcess
from couchpay.offline_stripe.realism_rules import ACCOUNT_LIMIT, ENDPOINT_LIMIT


def run(
    workdir: Path,
    fans: int = 1000,
    capacity_fans: int = 200,
    capacity: int = 20,
    mode: str = "test",
    endpoint_limit: int = ENDPOINT_LIMIT,
    account_limit: int | None = None,
    seed: int = 1,
) -> Section:
    raise_open_files(4 * fans + 256)
    limit = min(endpoint_limit, account_limit or ACCOUNT_LIMIT[mode])
    args = ["--mode", mode, "--endpoint-limit", str(endpoint_limit), "--seed", str(seed)]
    args += ["--disabled", *(["--account-limit", str(account_limit)] if account_limit else [])]
    section = Section("showtime")
    section.details["limit_per_second"] = limit
    with LocalStripe() as localstripe, RealismProcess(localstripe.api_base, args) as stand_in:
        main = _main(workdir / "showtime", localstripe, stand_in, fans, limit)
        section.details["main"] = {**main, "stand_in": _trimmed(main["stand_in"])}
        section.rows += _main_rows(main, fans, limit)
        localstripe.flush()
        limited = showtime_slots.capacity(
            workdir / "showtime-capacity", localstripe, stand_in, capacity_fans, capacity, limit
        )
        section.details["capacity"] = limited
        section.rows += showtime_slots.capacity_rows(limited, capacity_fans, capacity)
    return section


def _main(
    data_dir: Path, localstripe: LocalStripe, stand_in: RealismProcess, n: int, limit: int
) -> dict[str, Any]:
    with server_for(data_dir, localstripe, stand_in, limit) as server:
        catalog = asyncio.run(items(server))
        ticket = next(i for i in catalog if i["kind"] == "livestream")
        fans = asyncio.run(prepare(server, stand_in.url, [f"showtime-fan-{i}" for i in range(n)]))
        ideal = n / limit
        wait = 2 * ideal + 30
        run = measured_burst(server, stand_in, fans, cart_of(ticket), wait)
        ours = asyncio.run(records(server, fans))
    charged = _charged_per_fan(localstripe.api_base)
    return {**run, **_outcomes(fans, run["t0"], wait), **_doubles(run["stand_in"], charged, ours)}


def _trimmed(stats: dict[str, Any]) -> dict[str, Any]:
    """The stand-in's counters without its per-transaction maps (one entry per fan)."""
    per_fan = ("intents_by_transaction", "intent_requests_by_transaction")
    return {k: v for k, v in stats.items() if k not in per_fan}


def _outcomes(fans: list[Fan], t0: float, wait: float) -> dict[str, Any]:
    paid = [f for f in fans if f.outcome == "paid"]
    last_paid = max((f.done or 0.0 for f in paid), default=t0)
    first_press = min(f.pressed for f in fans)
    # a fan with no outcome counts at the deadline (a lower bound of their time)
    times = [f.seconds if f.seconds is not None else t0 + wait - f.pressed for f in fans]
    raised = sum(
        1 for f in fans if any(b > a for a, b in zip(f.positions, f.positions[1:], strict=False))
    )
    return {
        "outcomes": dict(Counter(f.outcome for f in fans)),
        "paid": len(paid),
        "paid_rate": len(paid) / (last_paid - first_press) if paid else 0.0,
        "seconds_p50": percentile(times, 50),
        "seconds_p99": percentile(times, 99),
        "seconds_max": max(times),
        "wait_bound_seconds": wait,
        "without_outcome": sum(1 for f in fans if f.seconds is None),
        "stranded": sum(1 for f in fans if f.outcome == "stranded"),
        "told_queued": sum(1 for f in fans if f.positions),
        "position_went_up": raised,
        "pressed_within_seconds": max(f.pressed for f in fans) - first_press,
    }


def _charged_per_fan(api_base: str) -> dict[str, int]:
    """Succeeded PaymentIntents per ``metadata.user_id`` at localstripe."""
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": api_base})
    charged: Counter[str] = Counter()
    for pi in client.v1.payment_intents.list({"limit": 100}).auto_paging_iter():
        data = pi.to_dict()
        if data.get("status") == "succeeded":
            charged[(data.get("metadata") or {}).get("user_id", "?")] += 1
    return dict(charged)


def _doubles(
    stats: dict[str, Any], charged: dict[str, int], ours: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    fans_charged_twice = sorted(u for u, n in charged.items() if n > 1)
    recorded = {u: sum(p["status"] == "succeeded" for p in ps) for u, ps in ours.items()}
    disagree = sorted(u for u in ours if charged.get(u, 0) != recorded[u])
    doubled = max(
        len(fans_charged_twice),
        len(stats["keys_with_several_intents"]),
        len(stats["transactions_with_several_intents"]),
    )
    return {
        "double_charges": doubled,
        "fans_charged_twice_at_stripe": fans_charged_twice,
        "records_disagreeing_with_stripe": disagree,
        "records_by_status": dict(Counter(p["status"] for ps in ours.values() for p in ps)),
    }


def _main_rows(main: dict[str, Any], n: int, limit: int) -> list[Row]:
    stats, ideal = main["stand_in"], n / limit
    fans = f"{n:,} fans"
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(main["outcomes"].items()))
    late = main["without_outcome"]
    bound = f"{late} without an outcome, counted at {main['wait_bound_seconds']:.0f} s"
    return [
        Row(f"showtime: fans paid, {fans}", "fans", main["paid"], n, ">= 1", note=outcomes),
        Row(
            f"showtime: paid rate vs Stripe's limit, {fans}",
            "/s",
            main["paid_rate"],
            limit,
            ">= 0.95",
        ),
        Row(
            f"showtime: time to outcome p50 vs FIFO ideal N/limit, {fans}",
            "s",
            main["seconds_p50"],
            ideal,
            note=bound if late else "",
        ),
        Row(
            f"showtime: time to outcome p99 vs FIFO ideal N/limit, {fans}",
            "s",
            main["seconds_p99"],
            ideal,
            "<= 1.2",
            note=bound if late else "",
        ),
        Row(
            f"showtime: Stripe 429s per Stripe call, {fans}",
            "calls",
            stats["rate_limited"],
            stats["calls"],
            "<= 0.01",
        ),
        Row(
            f"showtime: double charges, {fans}",
            "charges",
            main["double_charges"],
            None,
            "== 0",
            on_value=True,
        ),
        Row(
            f"showtime: payment_processing, never settled, {fans}",
            "fans",
            main["stranded"],
            None,
            "== 0",
            on_value=True,
        ),
        Row(
            f"showtime: records disagreeing with Stripe, {fans}",
            "fans",
            len(main["records_disagreeing_with_stripe"]),
            None,
            "== 0",
            on_value=True,
        ),
        Row(
            f"showtime: couchpay CPU per purchase, {fans}",
            "ms",
            1000 * main["cpu_seconds"] / n,
            None,
            note=f"{main['cpu_seconds']:.1f} s CPU over the burst and its wait",
        ),
    ]


if __name__ == "__main__":  # python -m bench.showtime [FANS [SLOT_FANS]]: the table, no files
    import json
    import tempfile

    from bench.report import text_table

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    slot_fans = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="couchpay-showtime-") as scratch:
        result = run(Path(scratch), fans=size, capacity_fans=slot_fans, capacity=slot_fans // 10)
    shown = {k: v for k, v in result.details["main"].items() if k != "stand_in"}
    stats = result.details["main"]["stand_in"]
    shown["stand_in"] = {k: stats[k] for k in ("calls", "rate_limited", "by_endpoint")}
    print(json.dumps(shown, indent=1, default=str))
    print(text_table(result.rows))
    for row in result.rows:
        if row.note:
            print(f"* {row.benchmark}: {row.note}")
    print(f"{time.perf_counter() - started:.0f} s")
