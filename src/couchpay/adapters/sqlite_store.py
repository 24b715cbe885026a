"""The Store port on an embedded SQLite file (the local / self-hosted deployment).

One connection per thread, in autocommit mode; every read-modify-write runs inside
``BEGIN IMMEDIATE`` so conditional writes are atomic across threads and across processes.
WAL journal, ``synchronous=NORMAL``, a busy timeout, foreign keys on. Nothing is ever deleted.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

from couchpay.adapters import sqlite_rows as rows
from couchpay.adapters import stored_keys as stored
from couchpay.adapters.sqlite_card_guard import live_card_unique
from couchpay.adapters.sqlite_schema import enable_wal, migrate
from couchpay.domain.cards import Card, User
from couchpay.domain.catalog import CatalogItem
from couchpay.domain.errors import BadRequest, NotFound
from couchpay.domain.purchases import Purchase
from couchpay.domain.refunds import Refund
from couchpay.domain.statuses import CardStatus, PurchaseStatus
from couchpay.file_modes import private_file
from couchpay.ports.store import Store

BUSY_TIMEOUT_MS = 10_000


class SqliteStore(Store):
    fast_reads = True

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:" and not self.path.startswith("file:"):
            private_file(Path(self.path))  # 0600 before SQLite opens it; WAL/SHM inherit it
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        migrate(self._conn())

    # connections ---------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,  # used by its own thread only; close() may run elsewhere
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        enable_wal(conn, BUSY_TIMEOUT_MS / 1000)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if self._closed:
            raise RuntimeError("the store is closed")
        if conn is None:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the store is closed")
                conn = self._open()
                self._all.append(conn)
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the database's write lock from its first statement."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._all = self._all, []
        for conn in conns:
            with suppress(sqlite3.Error):  # e.g. busy in another thread: nothing more to do
                conn.close()

    # users ---------------------------------------------------------------------------------
    def _user(self, conn: sqlite3.Connection, user_id: str) -> User | None:
        row = conn.execute("SELECT * FROM users WHERE user_id = ?", (user_id,)).fetchone()
        return rows.user_from_row(row) if row is not None else None

    def get_user(self, user_id: str) -> User | None:
        return self._user(self._conn(), user_id)

    def ensure_user(self, user_id: str, now: datetime) -> User:
        existing = self._user(self._conn(), user_id)  # a read, in the common case
        if existing is not None:
            return existing
        with self._write() as conn:
            conn.execute(
                "INSERT INTO users (user_id, created_at) VALUES (?, ?)"
                " ON CONFLICT (user_id) DO NOTHING",
                (user_id, stored.dt_out(now)),
            )
            user = self._user(conn, user_id)
        assert user is not None
        return user

    def set_stripe_customer(self, user_id: str, customer_id: str) -> User:
        with self._write() as conn:
            conn.execute(
                "UPDATE users SET stripe_customer_id = ?"
                " WHERE user_id = ? AND stripe_customer_id IS NULL",
                (customer_id, user_id),
            )
            user = self._user(conn, user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        return user

    def set_default_card(self, user_id: str, card_id: str | None) -> None:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE users SET default_card_id = ? WHERE user_id = ?", (card_id, user_id)
            )
            if cur.rowcount == 0:
                raise NotFound(f"no user {user_id}")

    # cards ---------------------------------------------------------------------------------
    def add_card(self, card: Card) -> None:
        with live_card_unique(self._conn, card), self._write() as conn:
            conn.execute(rows.INSERT_CARD, rows.to_params(card))

    def get_card(self, card_id: str) -> Card | None:
        row = self._conn().execute("SELECT * FROM cards WHERE card_id = ?", (card_id,)).fetchone()
        return rows.card_from_row(row) if row is not None else None

    def update_card(self, card: Card) -> None:
        with live_card_unique(self._conn, card), self._write() as conn:
            cur = conn.execute(rows.UPDATE_CARD, rows.to_params(card))
            if cur.rowcount == 0:
                raise NotFound(f"no card {card.card_id}")

    def list_cards(self, user_id: str) -> list[Card]:
        found = self._conn().execute(
            "SELECT * FROM cards WHERE user_id = ? ORDER BY created_at, card_id", (user_id,)
        )
        return [rows.card_from_row(row) for row in found]

    def find_cards_by_token(self, card_token: str) -> list[Card]:
        found = self._conn().execute(
            "SELECT * FROM cards WHERE card_token = ? ORDER BY created_at, card_id", (card_token,)
        )
        return [rows.card_from_row(row) for row in found]

    def cards_with_status(self, status: CardStatus) -> Iterator[Card]:
        after = ""
        while True:  # keyset pages, so a long job never holds one read open
            page = (
                self._conn()
                .execute(
                    "SELECT * FROM cards WHERE status = ? AND card_id > ?"
                    " ORDER BY card_id LIMIT 500",
                    (CardStatus(status).value, after),
                )
                .fetchall()
            )
            if not page:
                return
            yield from (rows.card_from_row(row) for row in page)
            after = page[-1]["card_id"]

    # catalog -------------------------------------------------------------------------------
    def put_item(self, item: CatalogItem) -> None:
        with self._write() as conn:
            conn.execute(rows.UPSERT_ITEM, rows.to_params(item))

    def get_item(self, item_id: str) -> CatalogItem | None:
        row = (
            self._conn()
            .execute("SELECT * FROM catalog_items WHERE item_id = ?", (item_id,))
            .fetchone()
        )
        return rows.item_from_row(row) if row is not None else None

    def list_items(self) -> list[CatalogItem]:
        found = self._conn().execute(
            "SELECT * FROM catalog_items WHERE active = 1 ORDER BY price_cents, name, item_id"
        )
        return [rows.item_from_row(row) for row in found]

    def list_all_items(self) -> list[CatalogItem]:
        found = self._conn().execute(
            "SELECT * FROM catalog_items ORDER BY price_cents, name, item_id"
        )
        return [rows.item_from_row(row) for row in found]

    # purchases -----------------------------------------------------------------------------
    def claim_purchase(self, purchase: Purchase) -> tuple[Purchase, bool]:
        with self._write() as conn:
            cur = conn.execute(rows.CLAIM_PURCHASE, rows.to_params(purchase))
            if cur.rowcount == 1:
                return purchase, True
            existing = self._purchase_by_request(conn, purchase.user_id, purchase.request_id)
        assert existing is not None  # the conflicting row; rows are never deleted
        return existing, False

    def get_purchase(self, transaction_id: str) -> Purchase | None:
        row = (
            self._conn()
            .execute("SELECT * FROM purchases WHERE transaction_id = ?", (transaction_id,))
            .fetchone()
        )
        return rows.purchase_from_row(row) if row is not None else None

    def _purchase_by_request(
        self, conn: sqlite3.Connection, user_id: str, request_id: str
    ) -> Purchase | None:
        row = conn.execute(
            "SELECT * FROM purchases WHERE user_id = ? AND request_id = ?", (user_id, request_id)
        ).fetchone()
        return rows.purchase_from_row(row) if row is not None else None

    def get_purchase_by_request(self, user_id: str, request_id: str) -> Purchase | None:
        return self._purchase_by_request(self._conn(), user_id, request_id)

    def get_purchase_by_intent(self, payment_intent_id: str) -> Purchase | None:
        row = (
            self._conn()
            .execute("SELECT * FROM purchases WHERE payment_intent_id = ?", (payment_intent_id,))
            .fetchone()
        )
        return rows.purchase_from_row(row) if row is not None else None

    def list_unsettled_purchases(self, updated_before: datetime, limit: int) -> list[Purchase]:
        found = self._conn().execute(
            "SELECT * FROM purchases WHERE status IN (?, ?) AND updated_at < ?"
            " ORDER BY updated_at, transaction_id LIMIT ?",
            (
                PurchaseStatus.PENDING.value,
                PurchaseStatus.REQUIRES_ACTION.value,
                stored.dt_out(updated_before),
                limit,
            ),
        )
        return [rows.purchase_from_row(row) for row in found]

    def settle_purchase(self, purchase: Purchase, expected: PurchaseStatus) -> bool:
        params = rows.to_params(purchase)
        params["expected"] = PurchaseStatus(expected).value
        with self._write() as conn:
            return conn.execute(rows.SETTLE_PURCHASE, params).rowcount == 1

    def list_purchases(
        self, user_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Purchase], str | None]:
        if limit < 1:
            raise BadRequest("invalid limit")
        sql = "SELECT * FROM purchases WHERE user_id = ?"
        args: list[object] = [user_id]
        if cursor is not None:
            sql += " AND (created_at, transaction_id) < (?, ?)"
            args.extend(stored.decode_cursor(cursor))
        sql += " ORDER BY created_at DESC, transaction_id DESC LIMIT ?"
        args.append(limit + 1)
        found = self._conn().execute(sql, args).fetchall()
        page = found[:limit]
        next_cursor = None
        if len(found) > limit:
            last = page[-1]
            next_cursor = stored.encode_cursor(last["created_at"], last["transaction_id"])
        return [rows.purchase_from_row(row) for row in page], next_cursor

    # refunds -------------------------------------------------------------------------------
    def claim_refund(self, refund: Refund) -> tuple[Refund, bool]:
        with self._write() as conn:
            if conn.execute(rows.CLAIM_REFUND, rows.to_params(refund)).rowcount == 1:
                return refund, True
            row = conn.execute(
                "SELECT * FROM refunds WHERE refund_key = ?", (refund.refund_key,)
            ).fetchone()
        return rows.refund_from_row(row), False

    def update_refund(self, refund: Refund) -> None:
        with self._write() as conn:
            if conn.execute(rows.UPDATE_REFUND, rows.to_params(refund)).rowcount != 1:
                raise NotFound(f"no refund {refund.refund_key}")

    def list_refunds(self, transaction_id: str) -> list[Refund]:
        found = self._conn().execute(
            "SELECT * FROM refunds WHERE transaction_id = ? ORDER BY created_at, refund_key",
            (transaction_id,),
        )
        return [rows.refund_from_row(row) for row in found]

    # webhooks ------------------------------------------------------------------------------
    def record_event(self, event_id: str, event_type: str, now: datetime) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO webhook_events (event_id, event_type, received_at) VALUES (?, ?, ?)"
                " ON CONFLICT (event_id) DO NOTHING",
                (event_id, event_type, stored.dt_out(now)),
            )
            return cur.rowcount == 1
