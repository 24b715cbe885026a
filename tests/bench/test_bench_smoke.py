"""The benchmarks (bench/, ``./scripts/bench``) at a tiny size, so their code cannot rot.

Each benchmark function runs once against real processes on 127.0.0.1 and must produce
well-formed rows: finite positive figures where it measured something, a ratio, a verdict when
a target applies. Nothing here asserts a speed: speed is measured by ./scripts/bench, never by
timed tests."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.report import Row, Section
from bench.stack import Stack

from bench import (
    coldstart,
    connections,
    history,
    purchase,
    report,
    showtime,
    showtime_aws,
    wallet,
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(tmp_path_factory.mktemp("bench-stack")) as s:
        yield s


def well_formed(section: Section, name: str) -> None:
    assert section.name == name
    assert section.rows, f"{name}: no rows"
    for row in section.rows:
        assert isinstance(row, Row) and row.benchmark and row.unit is not None
        for figure in (row.couchpay, row.baseline):
            assert figure is None or (math.isfinite(figure) and figure >= 0), row
        if row.couchpay is not None and row.baseline:
            assert row.ratio is not None and math.isfinite(row.ratio)
        if row.target and row.couchpay is not None and (row.on_value or row.baseline):
            assert row.met in (True, False), row
    json.dumps([r.as_json() for r in section.rows])  # the results file takes them as they are


def test_wallet_read(stack: Stack, tmp_path: Path) -> None:
    section = wallet.run(stack, tmp_path, requests=40, warmup=5)
    well_formed(section, "wallet")
    p50 = section.rows[0]
    assert p50.couchpay and p50.baseline and p50.couchpay > 0 and p50.baseline > 0
    assert section.details["errors"] == {"couchpay": 0, "echo": 0}


def test_connections(stack: Stack, tmp_path: Path) -> None:
    section = connections.run(stack, tmp_path, idle=20, active=4, requests=3)
    well_formed(section, "connections")
    assert section.details["couchpay"]["sockets"] == 24
    assert section.details["couchpay"]["error_count"] == 0


def test_purchase_counts_one_stripe_call_per_purchase(tmp_path: Path) -> None:
    section = purchase.run(tmp_path, (1, 2), {1: 2, 2: 4}, count_purchases=2, abba=False)
    well_formed(section, "purchase")
    assert [r.couchpay and r.couchpay > 0 for r in section.rows[:2]] == [True, True]
    counted = section.details["counted"]
    assert counted["failures"] == 0 and counted["purchases"] == 2
    assert counted["stripe_calls"] >= counted["purchases"]  # counted, never assumed
    assert section.rows[-1].benchmark.startswith("Stripe calls per saved-card purchase")


def test_showtime_counts_every_fan_and_stripe_call(tmp_path: Path) -> None:
    section = showtime.run(tmp_path, fans=20, capacity_fans=10, capacity=2, endpoint_limit=10)
    well_formed(section, "showtime")
    assert section.details["limit_per_second"] == 10
    main = section.details["main"]
    assert sum(main["outcomes"].values()) == 20  # every fan has an outcome or is counted out
    stand_in = main["stand_in"]
    assert stand_in["settings"]["endpoint_limit"] == 10 and stand_in["settings"]["enabled"]
    assert stand_in["payment_intents_created"] >= main["paid"] > 0  # counted, never assumed
    assert stand_in["calls"] >= stand_in["forwarded"] + stand_in["rate_limited"]
    names = [r.benchmark for r in section.rows]
    assert any("paid rate" in n for n in names) and any("meet-and-greet" in n for n in names)
    slots = section.details["capacity"]
    if slots["available"]:
        assert sum(slots["outcomes"].values()) == 10
    else:
        assert "--capacity" in slots["why"] and section.rows[-1].couchpay is None


def test_showtime_on_the_offline_aws_stack_counts_every_fan(tmp_path: Path) -> None:
    section = showtime_aws.run(tmp_path / "aws", fans=8)
    well_formed(section, "showtime-aws")
    main = section.details["main"]
    assert sum(main["outcomes"].values()) == 8  # every fan has an outcome or is counted out
    assert main["stand_in"]["payment_intents_created"] >= main["paid"] > 0
    assert all(r.benchmark.startswith("showtime on the offline AWS stack") for r in section.rows)


def test_history(tmp_path: Path) -> None:
    section = history.run(
        tmp_path,
        (5, 50),
        repeats=3,
        dynamodb_repeats=2,
        dynamodb_backend="moto",
        dynamodb_budget_seconds=60,
    )
    well_formed(section, "history")
    sqlite = section.details["sqlite_us"]
    assert set(sqlite) == {"5", "50"} and sqlite["50"]["mid"]["n"] == 3
    names = [r.benchmark for r in section.rows]
    assert any("SQLite" in n for n in names) and any("DynamoDB" in n for n in names)


def test_cold_start(tmp_path: Path) -> None:
    section = coldstart.run(tmp_path, runs=1, importtime=False)
    well_formed(section, "coldstart")
    assert section.details["median_ms"]["baseline"] > 0
    assert all(r.couchpay and r.couchpay > 0 for r in section.rows)


def test_report_table_json_markdown_and_chart(tmp_path: Path) -> None:
    rows = [
        Row("wallet read p50", "µs", 120.0, 100.0, "<= 1.3"),
        Row("purchases/s, 1 client", "/s", 80.0, 100.0, ">= 0.9"),
        Row("Stripe calls per saved-card purchase", "calls", 1.0, 1.0, "== 1", on_value=True),
        Row("history first page, DynamoDB", "µs p50", None, None, "<= 1.3", note="n/a"),
    ]
    assert [r.met for r in rows] == [True, False, True, None]
    doc = report.results_document([Section("x", rows)], quick=True, started=0.0, ended=1.0)
    assert doc["missed"] == ["purchases/s, 1 client"]
    report.write_json(doc, tmp_path / "r.json")
    assert report.rows_from_document(json.loads((tmp_path / "r.json").read_text()))[0] == rows[0]
    table = report.text_table(rows)
    assert "1.20x" in table and "0.80x" in table and "NO" in table and "n/a" in table
    md = tmp_path / "BENCHMARKS.md"
    md.write_text("# Benchmarks\n\nprose kept\n")
    report.update_markdown(doc, md, "chart.png")
    report.update_markdown(doc, md, "chart.png")  # replaces its block, never appends another
    text = md.read_text()
    assert text.count(report.TABLE_START) == 1 and "prose kept" in text and "| 0.80x |" in text
    assert report.write_png(doc, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
