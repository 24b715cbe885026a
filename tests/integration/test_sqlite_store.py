"""The Store port against real SQLite files.

``TestStoreContract`` holds the store-agnostic tests: they use only the ``store`` fixture and the
port's methods, so a later DynamoDB store is tested by adding it to the fixture's params. The
tests after it are SQLite-specific (pragmas, the file's schema, reopening, several processes).
"""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from couchpay.adapters import sqlite_schema
from couchpay.adapters.sqlite_store import SqliteStore
from couchpay.domain.cards import Card
from couchpay.domain.catalog import CatalogItem, ItemKind
from couchpay.domain.errors import BadRequest, NotFound
from couchpay.domain.purchases import Purchase, PurchaseLine
from couchpay.domain.statuses import CardStatus, PurchaseStatus
from couchpay.ports.store import Store

T0 = datetime(2025, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)


def make_card(card_id: str = "card-1", user_id: str = "alice", **changes: Any) -> Card:
    card = Card(
        card_id=card_id,
        user_id=user_id,
        stripe_customer_id="cus_alice",
        card_token="pm_123",
        fingerprint="fp_abc",
        brand="visa",
        last_four="4242",
        exp_month=12,
        exp_year=2031,
        name_on_card="Alice Liddell",
        created_at=T0,
        updated_at=T0 + timedelta(seconds=1),
    )
    return replace(card, **changes)


def make_purchase(
    transaction_id: str = "tx-1", request_id: str = "req-1", user_id: str = "alice", **changes: Any
) -> Purchase:
    purchase = Purchase(
        transaction_id=transaction_id,
        request_id=request_id,
        request_hash="hash-" + request_id,
        user_id=user_id,
        card_id="card-1",
        card_brand="visa",
        card_last_four="4242",
        items=(
            PurchaseLine("item-stream", "Livestream ticket", 2000, 1),
            PurchaseLine("item-poster", "Tour poster", 10000, 2, shipping_cents=500),
        ),
        subtotal_cents=22000,
        streaming_cost_cents=2200,
        shipping_cents=1000,
        total_cents=25200,
        currency="usd",
        created_at=T0,
        updated_at=T0,
        payment_method_id="pm_123",
    )
    return replace(purchase, **changes)


@pytest.fixture(params=["sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = SqliteStore(tmp_path / "couchpay.db")
    else:  # pragma: no cover - future stores (DynamoDB) go here
        raise NotImplementedError(request.param)
    yield opened
    opened.close()


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` for i in range(count) on as many threads, released together."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


class TestStoreContract:
    # users ---------------------------------------------------------------------------------
    def test_ensure_user_creates_once_and_keeps_the_first_record(self, store: Store) -> None:
        first = store.ensure_user("alice", T0)
        assert first.user_id == "alice"
        assert first.created_at == T0 and first.created_at.tzinfo is not None
        assert first.stripe_customer_id is None and first.default_card_id is None
        assert store.ensure_user("alice", T0 + timedelta(days=1)) == first

    def test_set_stripe_customer_keeps_the_first_id(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        assert store.set_stripe_customer("alice", "cus_first").stripe_customer_id == "cus_first"
        again = store.set_stripe_customer("alice", "cus_second")
        assert again.stripe_customer_id == "cus_first"
        assert store.ensure_user("alice", T0).stripe_customer_id == "cus_first"

    def test_set_stripe_customer_race_everyone_reads_the_winner(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        got = at_once(8, lambda i: store.set_stripe_customer("alice", f"cus_{i}"))
        assert len({user.stripe_customer_id for user in got}) == 1

    def test_set_stripe_customer_for_unknown_user_is_not_found(self, store: Store) -> None:
        with pytest.raises(NotFound):
            store.set_stripe_customer("nobody", "cus_x")

    def test_default_card_set_and_cleared(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        store.set_default_card("alice", "card-1")
        assert store.ensure_user("alice", T0).default_card_id == "card-1"
        store.set_default_card("alice", None)
        assert store.ensure_user("alice", T0).default_card_id is None
        with pytest.raises(NotFound):
            store.set_default_card("nobody", "card-1")

    # cards ---------------------------------------------------------------------------------
    def test_card_round_trip_every_field(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        card = make_card()
        plain = make_card("card-2", name_on_card=None, status=CardStatus.FAIL_CHECKS, active=False)
        store.add_card(card)
        store.add_card(plain)
        assert store.get_card("card-1") == card
        got = store.get_card("card-2")
        assert got == plain
        assert got is not None and got.status is CardStatus.FAIL_CHECKS and got.active is False
        assert got.created_at.tzinfo is not None and got.updated_at.utcoffset() == timedelta(0)
        assert store.get_card("card-404") is None

    def test_update_card_writes_every_field(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        store.add_card(make_card())
        changed = make_card(
            card_token="pm_456",
            stripe_customer_id="cus_other",
            fingerprint="fp_new",
            brand="mastercard",
            last_four="4444",
            exp_month=1,
            exp_year=2033,
            name_on_card=None,
            updated_at=T0 + timedelta(days=3),
        ).cancelled(T0 + timedelta(days=4))
        store.update_card(changed)
        assert store.get_card("card-1") == changed
        with pytest.raises(NotFound):
            store.update_card(make_card("card-404"))

    def test_cards_are_listed_per_user_whatever_their_status(self, store: Store) -> None:
        for user in ("alice", "bob"):
            store.ensure_user(user, T0)
        statuses = list(CardStatus)
        for i, status in enumerate(statuses):
            store.add_card(make_card(f"a-{i}", status=status, created_at=T0 + timedelta(minutes=i)))
        store.add_card(make_card("b-1", user_id="bob", stripe_customer_id="cus_bob"))
        alice = store.list_cards("alice")
        assert [c.card_id for c in alice] == [f"a-{i}" for i in range(len(statuses))]
        assert [c.status for c in alice] == statuses
        assert [c.card_id for c in store.list_cards("bob")] == ["b-1"]
        assert store.list_cards("carol") == []

    # catalog -------------------------------------------------------------------------------
    def test_catalog_round_trip_upsert_and_active_order(self, store: Store) -> None:
        items = [
            CatalogItem("i-poster", "Tour poster", ItemKind.MERCH, 10000, 500),
            CatalogItem("i-meet", "Meet and greet", ItemKind.MEET_AND_GREET, 5000),
            CatalogItem("i-b", "B stream", ItemKind.LIVESTREAM, 2000),
            CatalogItem("i-a", "A stream", ItemKind.LIVESTREAM, 2000),
            CatalogItem("i-old", "Old shirt", ItemKind.MERCH, 100, 50, active=False),
        ]
        for item in items:
            store.put_item(item)
        assert store.get_item("i-poster") == items[0]
        old = store.get_item("i-old")
        assert old == items[4] and old is not None and old.kind is ItemKind.MERCH
        assert store.get_item("nope") is None
        assert [i.item_id for i in store.list_items()] == ["i-a", "i-b", "i-meet", "i-poster"]

        cheaper = replace(items[0], name="Signed poster", price_cents=9000, shipping_cents=700)
        store.put_item(cheaper)
        store.put_item(replace(items[2], active=False))
        assert store.get_item("i-poster") == cheaper
        assert [i.item_id for i in store.list_items()] == ["i-a", "i-meet", "i-poster"]

    # purchases -----------------------------------------------------------------------------
    def test_purchase_round_trip_every_field(self, store: Store) -> None:
        full = make_purchase(
            payment_intent_id="pi_1",
            status=PurchaseStatus.FAILED,
            active=False,
            failure_code="card_declined",
            failure_message="Your card was declined.",
            stripe_response={"id": "pi_1", "amount": 25200, "nested": {"a": [1, None, True]}},
            updated_at=T0 + timedelta(seconds=5),
        )
        bare = make_purchase("tx-2", "req-2", card_id=None, payment_method_id="")
        assert store.claim_purchase(full) == (full, True)
        assert store.claim_purchase(bare) == (bare, True)
        got = store.get_purchase("tx-1")
        assert got == full
        assert got is not None and got.status is PurchaseStatus.FAILED
        assert got.items[1] == PurchaseLine("item-poster", "Tour poster", 10000, 2, 500)
        assert store.get_purchase("tx-2") == bare
        assert store.get_purchase_by_request("alice", "req-2") == bare
        assert store.get_purchase_by_request("bob", "req-2") is None
        assert store.get_purchase("tx-404") is None

    def test_datetimes_come_back_as_the_same_instant_in_utc(self, store: Store) -> None:
        paris = timezone(timedelta(hours=1))
        store.claim_purchase(make_purchase(created_at=T0.astimezone(paris)))
        got = store.get_purchase("tx-1")
        assert got is not None and got.created_at == T0 and got.created_at.tzinfo == UTC

    def test_claim_with_a_used_request_id_returns_the_first(self, store: Store) -> None:
        first = make_purchase()
        store.claim_purchase(first)
        again = make_purchase("tx-2", total_cents=1)
        assert store.claim_purchase(again) == (first, False)
        assert store.get_purchase("tx-2") is None
        other_user = make_purchase("tx-3", user_id="bob")
        assert store.claim_purchase(other_user) == (other_user, True)

    def test_claim_race_between_threads_has_one_winner(self, store: Store) -> None:
        results = at_once(16, lambda i: store.claim_purchase(make_purchase(f"tx-{i:02d}")))
        assert sum(ours for _, ours in results) == 1
        winner = next(p for p, ours in results if ours)
        assert {p.transaction_id for p, _ in results} == {winner.transaction_id}
        assert store.get_purchase_by_request("alice", "req-1") == winner

    def test_settle_moves_only_from_the_expected_status(self, store: Store) -> None:
        pending = make_purchase()
        store.claim_purchase(pending)
        action = pending.settled_as(
            PurchaseStatus.REQUIRES_ACTION,
            T0 + timedelta(seconds=1),
            payment_intent_id="pi_1",
            stripe_response={"id": "pi_1", "status": "requires_action"},
        )
        assert store.settle_purchase(action, PurchaseStatus.PENDING) is True
        assert store.get_purchase("tx-1") == action

        stale = pending.settled_as(
            PurchaseStatus.FAILED, T0 + timedelta(seconds=2), failure_code="card_declined"
        )
        assert store.settle_purchase(stale, PurchaseStatus.PENDING) is False
        assert store.get_purchase("tx-1") == action

        paid = action.settled_as(PurchaseStatus.SUCCEEDED, T0 + timedelta(seconds=3))
        assert store.settle_purchase(paid, PurchaseStatus.REQUIRES_ACTION) is True
        assert store.get_purchase("tx-1") == paid
        assert store.settle_purchase(make_purchase("tx-404"), PurchaseStatus.PENDING) is False

    def test_history_pages_newest_first_without_gaps_or_duplicates(self, store: Store) -> None:
        made = []
        for i in range(45):  # groups of three share a created_at: ties go by transaction_id
            created = T0 + timedelta(seconds=i // 3)
            made.append(make_purchase(f"tx-{i:02d}", f"req-{i}", created_at=created))
        for i, purchase in enumerate(reversed(made)):  # insertion order must not matter
            store.claim_purchase(purchase)
            store.claim_purchase(make_purchase(f"bob-{i}", f"req-{i}", user_id="bob"))
        expected = sorted(made, key=lambda p: (p.created_at, p.transaction_id), reverse=True)

        pages, cursor = [], None
        while True:
            page, cursor = store.list_purchases("alice", 20, cursor)
            pages.append(page)
            if cursor is None:
                break
            assert cursor.replace("-", "").replace("_", "").isalnum()
        assert [len(page) for page in pages] == [20, 20, 5]
        assert [p for page in pages for p in page] == expected

    def test_history_edges(self, store: Store) -> None:
        assert store.list_purchases("alice", 20, None) == ([], None)
        for i in range(3):
            store.claim_purchase(make_purchase(f"tx-{i}", f"req-{i}"))
        page, cursor = store.list_purchases("alice", 3, None)
        assert len(page) == 3 and cursor is None
        page, cursor = store.list_purchases("alice", 2, None)
        assert [p.transaction_id for p in page] == ["tx-2", "tx-1"] and cursor is not None
        assert store.list_purchases("bob", 2, cursor) == ([], None)

    @pytest.mark.parametrize(
        "cursor", ["", "not a cursor", "!!!!", "bm9wZQ", "WyJ4IiwieSJd", "W10", "e30", "é" * 8]
    )
    def test_malformed_cursor_is_a_bad_request(self, store: Store, cursor: str) -> None:
        with pytest.raises(BadRequest, match="invalid cursor"):
            store.list_purchases("alice", 20, cursor)

    # webhooks ------------------------------------------------------------------------------
    def test_record_event_once(self, store: Store) -> None:
        assert store.record_event("evt_1", "payment_intent.succeeded", T0) is True
        assert store.record_event("evt_1", "payment_intent.succeeded", T0) is False
        assert store.record_event("evt_2", "charge.refunded", T0) is True


# SQLite-specific ---------------------------------------------------------------------------
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
