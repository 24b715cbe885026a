"""`couchpay events list|replay|deliver` on a real SQLite file, as an operator runs them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from couchpay.adapters.sqlite_store import SqliteStore
from couchpay.domain.statuses import PurchaseStatus
from couchpay.entrypoints.cli import main
from tests.contract.store_contract import make_card, make_purchase

NOW = datetime.now(UTC).replace(microsecond=0)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def store(data_dir: Path) -> SqliteStore:
    s = SqliteStore(data_dir / "couchpay.sqlite3")
    for n, age in ((1, timedelta(days=3)), (2, timedelta(hours=1))):
        at = NOW - age
        s.claim_purchase(make_purchase(f"tx-{n}", f"req-{n}", status=PurchaseStatus.PENDING))
        p = s.get_purchase(f"tx-{n}")
        assert p is not None
        assert s.settle_purchase(
            replace(p, status=PurchaseStatus.SUCCEEDED, updated_at=at), p.status
        )
    s.ensure_user("alice", NOW)
    s.add_card(
        make_card(created_at=NOW - timedelta(minutes=5), updated_at=NOW - timedelta(minutes=5))
    )
    return s


def test_list_filters_and_shows_the_delivery_state(
    store: SqliteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "events", "list")  # the last day
    assert code == 0 and "2 events" in err
    assert "purchase.succeeded" in out and "purchase:tx-2#1" in out and "tx-1" not in out
    assert out.splitlines()[-1].endswith("pending") and "card:card-1#1" in out
    _, out, _ = cli(capsys, "events", "list", "--since", "4d", "--json")
    assert [e["subject"] for e in json.loads(out)] == [
        "purchase:tx-1",
        "purchase:tx-2",
        "card:card-1",
    ]
    _, out, _ = cli(capsys, "events", "list", "--subject", "tx-1", "--json")
    [event] = json.loads(out)
    assert event["type"] == "purchase.succeeded" and event["pending"] is True
    [one] = store.outbox_subject("purchase:tx-1")
    store.outbox_failed(one, "HTTP 502", NOW + timedelta(minutes=1))
    _, out, _ = cli(capsys, "events", "list", "--subject", "purchase:tx-1")
    assert "pending (1 failed: HTTP 502; next" in out
    _, out, _ = cli(capsys, "events", "list", "--since", "2027-01-01T00:00:00Z", "--json")
    assert json.loads(out) == []
    with pytest.raises(SystemExit) as usage:
        cli(capsys, "events", "list", "--since", "yesterday")
    assert usage.value.code == 2 and "not a time" in capsys.readouterr().err


def test_replay_makes_delivered_events_pending_again(
    store: SqliteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    for event in store.outbox_pending(10):
        store.outbox_delivered(event, "ep", ["ep"], NOW)
    assert store.outbox_pending(10) == []
    code, out, _ = cli(capsys, "events", "replay", "--since", "2h")
    assert code == 0 and "2 events will be delivered again" in out
    assert {e.subject for e in store.outbox_pending(10)} == {"purchase:tx-2", "card:card-1"}
    code, _, err = cli(capsys, "events", "replay", "evt_unknown")
    assert code == 1 and "no event evt_unknown" in err


def test_deliver_needs_an_endpoint(store: SqliteStore, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "events", "deliver")
    assert code == 1 and "COUCHPAY_EVENTS_URLS" in err
