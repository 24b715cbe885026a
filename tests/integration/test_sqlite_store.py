"""The Store port against real SQLite files.

SQLite-specific tests (pragmas, the file's schema, reopening, several processes). The
store-agnostic contract is in tests/contract/.
"""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from couchpay.adapters import sqlite_schema
from couchpay.adapters.sqlite_store import SqliteStore
from couchpay.domain.catalog import CatalogItem, ItemKind
from couchpay.domain.statuses import PurchaseStatus
from tests.contract.store_contract import T0, at_once, make_card, make_purchase


def test_pragmas_wal_normal_busy_timeout_foreign_keys(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    try:
        conn = store._conn()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        other = at_once(1, lambda _: store._conn())[0]  # another thread, another connection
        assert other is not conn
    finally:
        store.close()
    plain = sqlite3.connect(tmp_path / "db.sqlite")  # WAL is a property of the file
    assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    plain.close()


def test_values_are_stored_as_integers_iso_utc_strings_and_enum_values(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    store.claim_purchase(make_purchase(status=PurchaseStatus.SUCCEEDED))
    store.close()
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    row = conn.execute(
        "SELECT typeof(total_cents), typeof(subtotal_cents), created_at, status FROM purchases"
    ).fetchone()
    conn.close()
    assert row == ("integer", "integer", "2025-01-31T12:00:00.123456+00:00", "succeeded")


def test_reopening_keeps_everything_and_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = SqliteStore(path)
    store.ensure_user("alice", T0)
    store.add_card(make_card())
    store.put_item(CatalogItem("i-1", "Livestream", ItemKind.LIVESTREAM, 2000))
    store.claim_purchase(make_purchase())
    store.record_event("evt_1", "charge.refunded", T0)
    versions = store._conn().execute("SELECT * FROM schema_version").fetchall()
    store.close()

    again = SqliteStore(path)
    try:
        conn = again._conn()
        assert conn.execute("SELECT * FROM schema_version").fetchall() == versions
        assert len(versions) == sqlite_schema.LATEST_VERSION
        assert sqlite_schema.migrate(conn) == 0
        assert again.ensure_user("alice", T0 + timedelta(days=1)).created_at == T0
        assert again.list_cards("alice") == [make_card()]
        assert [i.item_id for i in again.list_items()] == ["i-1"]
        assert again.get_purchase("tx-1") == make_purchase()
        assert again.record_event("evt_1", "charge.refunded", T0) is False
    finally:
        again.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "db.sqlite").close()
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    conn.execute("INSERT INTO schema_version VALUES (?, ?)", (999, T0.isoformat()))
    conn.commit()
    conn.close()
    with pytest.raises(sqlite_schema.SchemaTooNew):
        SqliteStore(tmp_path / "db.sqlite")


def test_cards_need_a_known_user_and_naive_datetimes_are_refused(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    try:
        with pytest.raises(sqlite3.IntegrityError):
            store.add_card(make_card(user_id="nobody"))
        with pytest.raises(ValueError, match="timezone-aware"):
            store.ensure_user("alice", datetime(2025, 1, 1))
        assert store.list_cards("nobody") == []
    finally:
        store.close()


def test_close_closes_every_thread_connection(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    conns = at_once(4, lambda _: store._conn())
    store.close()
    for conn in conns:
        with pytest.raises(sqlite3.ProgrammingError):
            conn.execute("SELECT 1")
    with pytest.raises(RuntimeError):
        store.get_card("card-1")


def test_the_adapter_never_deletes() -> None:
    adapters = Path(sqlite_schema.__file__).parent
    for name in ("sqlite_store.py", "sqlite_rows.py", "sqlite_schema.py"):
        assert not re.search(r"\bdelete\s+from\b", (adapters / name).read_text(), re.IGNORECASE)


def _claim_in_another_process(path: str, transaction_id: str, barrier: Any, results: Any) -> None:
    barrier.wait()  # every process opens (and migrates) the fresh file at the same moment
    store = SqliteStore(path)
    try:
        stored, ours = store.claim_purchase(make_purchase(transaction_id))
        results.put((transaction_id, stored.transaction_id, ours))
    finally:
        store.close()


def test_claim_race_between_processes_has_one_winner(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [
        ctx.Process(target=_claim_in_another_process, args=(path, f"tx-p{i}", barrier, results))
        for i in range(4)
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0

    winners = [mine for mine, _, ours in outcomes if ours]
    assert len(winners) == 1
    assert {stored for _, stored, _ in outcomes} == {winners[0]}
    store = SqliteStore(path)
    try:
        conn = store._conn()
        assert conn.execute("SELECT COUNT(*) FROM purchases").fetchone()[0] == 1
        versions = conn.execute("SELECT version FROM schema_version").fetchall()
        assert [v[0] for v in versions] == list(range(1, sqlite_schema.LATEST_VERSION + 1))
    finally:
        store.close()
