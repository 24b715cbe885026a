"""Run the benchmarks, print one table, save the results.

    python -m bench                 # the full run (~7-13 min here; budget 15 min on 2 cores)
    python -m bench --quick         # fewer requests, histories of 100 and 10,000 only
    python -m bench --only wallet,coldstart
    python -m bench --render bench/results/latest.json   # table, chart, BENCHMARKS.md again

A full run writes bench/results/latest.json, bench/results/latest.png and the table in
BENCHMARKS.md; a quick run writes bench/results/quick.{json,png} and leaves BENCHMARKS.md
alone (unless --markdown). COUCHPAY_BENCH_SRC=/a/copy/of/src runs the couchpay processes from
another source tree, to measure a fix before it lands (BENCHMARKS.md did)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import report
from bench.report import Row, Section
from bench.stack import Stack

ORDER = ("showtime", "showtime-aws", "wallet", "purchase", "history", "connections", "coldstart")
TITLES = {
    "wallet": "wallet read: get-user-credit-card vs a bare Starlette/uvicorn echo socket",
    "showtime": "showtime: fans press Pay within one second, Stripe's latency and rate limits",
    "showtime-aws": "showtime on the offline AWS stack: the shared line, serverless-offline",
    "purchase": "purchase: Stripe calls per saved-card purchase, counted by a proxy",
    "history": "history: a page for a long history vs a short one (SQLite, DynamoDB)",
    "connections": "connections: 1,000 idle + 50 active sockets",
    "coldstart": "cold start: Lambda handler modules vs stripe + boto3 alone",
}


@dataclass(frozen=True)
class Sizes:
    wallet_requests: int
    purchase_levels: tuple[int, ...]
    purchase_per_round: dict[int, int]
    purchase_counted: int
    purchase_abba: bool
    history_sizes: tuple[int, ...]
    history_repeats: int
    dynamodb_repeats: int
    dynamodb_budget_seconds: float
    idle: int
    active: int
    active_requests: int
    cold_runs: int
    showtime_fans: int
    showtime_slot_fans: int
    showtime_slots: int
    showtime_aws_fans: int


FULL = Sizes(
    wallet_requests=4000,
    purchase_levels=(),  # purchases/s vs the raw SDK on localstripe: retired (see BENCHMARKS.md)
    purchase_per_round={1: 160, 8: 320, 32: 640},
    purchase_counted=50,
    purchase_abba=True,
    history_sizes=(100, 10_000, 100_000),
    history_repeats=300,
    dynamodb_repeats=60,
    dynamodb_budget_seconds=240.0,
    idle=1000,
    active=50,
    active_requests=40,
    cold_runs=9,
    showtime_fans=1000,
    showtime_slot_fans=200,
    showtime_slots=20,
    showtime_aws_fans=100,
)
QUICK = Sizes(
    wallet_requests=1000,
    purchase_levels=(),
    purchase_per_round={1: 40, 8: 80, 32: 160},
    purchase_counted=10,
    purchase_abba=False,
    history_sizes=(100, 10_000),
    history_repeats=100,
    dynamodb_repeats=20,
    dynamodb_budget_seconds=60.0,
    idle=1000,
    active=50,
    active_requests=10,
    cold_runs=3,
    showtime_fans=200,
    showtime_slot_fans=200,
    showtime_slots=20,
    showtime_aws_fans=40,
)


def run_selected(names: list[str], sizes: Sizes, workdir: Path) -> tuple[list[Section], bool]:
    """Run the named benchmarks; a benchmark that crashes gives an n/a row, not a lost run."""
    from bench import coldstart, connections, history, purchase, showtime, showtime_aws, wallet

    stack: Stack | None = None

    def the_stack() -> Stack:
        nonlocal stack
        if stack is None:
            stack = Stack(workdir / "stack")
        return stack

    runners: dict[str, Callable[[], Section]] = {
        "showtime": lambda: showtime.run(
            workdir, sizes.showtime_fans, sizes.showtime_slot_fans, sizes.showtime_slots
        ),
        "showtime-aws": lambda: showtime_aws.run(workdir / "showtime-aws", sizes.showtime_aws_fans),
        "wallet": lambda: wallet.run(the_stack(), workdir, sizes.wallet_requests),
        "purchase": lambda: purchase.run(
            workdir,
            sizes.purchase_levels,
            sizes.purchase_per_round,
            sizes.purchase_counted,
            sizes.purchase_abba,
        ),
        "history": lambda: history.run(
            workdir,
            sizes.history_sizes,
            sizes.history_repeats,
            sizes.dynamodb_repeats,
            dynamodb_budget_seconds=sizes.dynamodb_budget_seconds,
        ),
        "connections": lambda: connections.run(
            the_stack(), workdir, sizes.idle, sizes.active, sizes.active_requests
        ),
        "coldstart": lambda: coldstart.run(workdir, sizes.cold_runs),
    }
    sections: list[Section] = []
    crashed = False
    # wallet and connections share one stack: run them back to back, then drop it
    schedule = sorted(
        names,
        key=(
            "wallet",
            "connections",
            "purchase",
            "history",
            "coldstart",
            "showtime",
            "showtime-aws",
        ).index,
    )
    try:
        for name in schedule:
            print(f"== {TITLES[name]}", file=sys.stderr, flush=True)
            started = time.perf_counter()
            try:
                section = runners[name]()
            except Exception as exc:  # keep the run: the table says what broke
                traceback.print_exc()
                crashed = True
                section = Section(name, [Row(f"{name}: crashed", "", None, None, note=repr(exc))])
            section.seconds = time.perf_counter() - started
            print(f"   {section.seconds:.0f} s", file=sys.stderr, flush=True)
            sections.append(section)
            if name == "connections" and stack is not None:
                stack.close()
                stack = None
    finally:
        if stack is not None:
            stack.close()
    return sorted(sections, key=lambda s: ORDER.index(s.name)), crashed


def render(path: Path) -> int:
    doc = json.loads(path.read_text())
    png = path.with_suffix(".png")
    drew = report.write_png(doc, png)
    if path.resolve() == (report.RESULTS / "latest.json").resolve():
        report.update_markdown(doc, report.MARKDOWN, f"results/{png.name}" if drew else None)
    print(report.machine_line(doc["machine"]))
    print(report.text_table(report.rows_from_document(doc)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run (about a minute)")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(ORDER)}")
    parser.add_argument("--out", type=Path, default=report.RESULTS, help="results directory")
    parser.add_argument(
        "--markdown",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="update BENCHMARKS.md (default: on for a full run of everything)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="measure nothing: print the table of a results file, redraw its chart and update "
        "BENCHMARKS.md from it",
    )
    args = parser.parse_args(argv)
    if args.render:
        return render(args.render)
    names = [n.strip() for n in args.only.split(",")] if args.only else list(ORDER)
    unknown = sorted(set(names) - set(ORDER))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    sizes = QUICK if args.quick else FULL
    markdown = args.markdown if args.markdown is not None else not args.quick and not args.only
    stem = "quick" if args.quick else "latest" if not args.only else "partial"

    started = time.time()
    scratch = tempfile.mkdtemp(prefix="couchpay-bench-")
    try:
        sections, crashed = run_selected(names, sizes, Path(scratch))
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"scratch kept in {scratch}", file=sys.stderr)
    doc = report.results_document(sections, args.quick, started, time.time())
    report.write_json(doc, args.out / f"{stem}.json")
    png = args.out / f"{stem}.png"
    drew = report.write_png(doc, png)
    if markdown:
        relative = (
            png.relative_to(report.MARKDOWN.parent) if png.is_relative_to(report.HERE) else png
        )
        report.update_markdown(doc, report.MARKDOWN, str(relative) if drew else None)
    print()
    print(report.machine_line(doc["machine"]))
    print(report.text_table(report.rows_from_document(doc)))
    notes = [r for r in report.rows_from_document(doc) if r.note]
    if notes:
        print()
        for r in notes:
            print(f"* {r.benchmark}: {r.note}")
    print()
    written = [args.out / f"{stem}.json", *([png] if drew else [])]
    if markdown:
        written.append(report.MARKDOWN)
    print("written: " + ", ".join(str(p) for p in written))
    return 1 if crashed else 0
