"""The Store port on an embedded SQLite file (the local / self-hosted deployment).

One connection per thread, in autocommit mode; every read-modify-write runs inside
``BEGIN IMMEDIATE`` so conditional writes are atomic across threads and across processes.
WAL journal, ``synchronous=NORMAL``, a busy timeout, foreign keys on. Nothing is ever deleted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime

from couchpay.adapters import sqlite_rows as rows
from couchpay.adapters.sqlite_card_guard import live_card_unique
from couchpay.adapters.sqlite_outbox import SqliteOutbox, events_placed, insert_events
from couchpay.adapters.sqlite_purchase_queries import SqlitePurchaseQueries
from couchpay.domain.cards import Card, User
from couchpay.domain.catalog import CatalogItem
from couchpay.domain.errors import NotFound, SoldOut
from couchpay.domain.events import OutboxEvent
from couchpay.domain.purchases import Purchase
from couchpay.domain.refunds import Refund
from couchpay.domain.statuses import CardStatus, PurchaseStatus
from couchpay.ports import stored_keys as stored
from couchpay.ports.store import Store

INSERT_CARD = rows.insert_sql(Card, "cards")
UPDATE_CARD = rows.update_sql(Card, "cards")
UPSERT_ITEM = rows.upsert_sql(CatalogItem, "catalog_items")
CLAIM_PURCHASE = rows.insert_sql(Purchase, "purchases", conflict="user_id, request_id")
CLAIM_REFUND = rows.insert_sql(Refund, "refunds", conflict="refund_key")
UPDATE_REFUND = rows.update_sql(Refund, "refunds")


class SqliteStore(SqlitePurchaseQueries, SqliteOutbox, Store):
    fast_reads = True

    # users ---------------------------------------------------------------------------------
    def _user(self, conn: sqlite3.Connection, user_id: str) -> User | None:
        row = conn.execute("SELECT * FROM users WHERE user_id = ?", (user_id,)).fetchone()
        return rows.from_row(User, row) if row is not None else None

    def get_user(self, user_id: str) -> User | None:
        return self._user(self._conn(), user_id)

    def _create_user(self, user_id: str, now: datetime) -> User:
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
    def _add_card(self, card: Card, events: list[OutboxEvent]) -> None:
        with live_card_unique(self._conn, card), events_placed(), self._write() as conn:
            conn.execute(INSERT_CARD, rows.to_params(card))
            insert_events(conn, events)

    def get_card(self, card_id: str) -> Card | None:
        row = self._conn().execute("SELECT * FROM cards WHERE card_id = ?", (card_id,)).fetchone()
        return rows.from_row(Card, row) if row is not None else None

    def _update_card(self, card: Card, events: list[OutboxEvent]) -> None:
        with live_card_unique(self._conn, card), events_placed(), self._write() as conn:
            cur = conn.execute(UPDATE_CARD, rows.to_params(card))
            if cur.rowcount == 0:
                raise NotFound(f"no card {card.card_id}")
            insert_events(conn, events)

    def list_cards(self, user_id: str) -> list[Card]:
        found = self._conn().execute(
            "SELECT * FROM cards WHERE user_id = ? ORDER BY created_at, card_id", (user_id,)
        )
        return [rows.from_row(Card, row) for row in found]

    def find_cards_by_token(self, card_token: str) -> list[Card]:
        found = self._conn().execute(
            "SELECT * FROM cards WHERE card_token = ? ORDER BY created_at, card_id", (card_token,)
        )
        return [rows.from_row(Card, row) for row in found]

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
            yield from (rows.from_row(Card, row) for row in page)
            after = page[-1]["card_id"]

    # catalog -------------------------------------------------------------------------------
    def put_item(self, item: CatalogItem) -> None:
        with self._write() as conn:
            conn.execute(UPSERT_ITEM, rows.to_params(item))

    def get_item(self, item_id: str) -> CatalogItem | None:
        row = (
            self._conn()
            .execute("SELECT * FROM catalog_items WHERE item_id = ?", (item_id,))
            .fetchone()
        )
        return rows.from_row(CatalogItem, row) if row is not None else None

    def _all_items(self) -> list[CatalogItem]:
        found = self._conn().execute("SELECT * FROM catalog_items")
        return [rows.from_row(CatalogItem, row) for row in found]

    # purchases -----------------------------------------------------------------------------
    def _insert_purchase(
        self, purchase: Purchase, holds: dict[str, int], capacities: dict[str, int]
    ) -> bool:
        with self._write() as conn:
            if conn.execute(CLAIM_PURCHASE, rows.to_params(purchase)).rowcount != 1:
                return False
            for item_id, qty in sorted(holds.items()):
                row = conn.execute(
                    "SELECT held FROM item_holds WHERE item_id = ?", (item_id,)
                ).fetchone()
                held = row["held"] if row is not None else 0
                if held + qty > capacities[item_id]:
                    raise SoldOut()  # rolls the whole claim back
                self._add_held(conn, item_id, qty)
            return True

    @staticmethod
    def _add_held(conn: sqlite3.Connection, item_id: str, delta: int) -> None:
        conn.execute(
            "INSERT INTO item_holds (item_id, held) VALUES (?, ?)"
            " ON CONFLICT (item_id) DO UPDATE SET held = held + excluded.held",
            (item_id, delta),
        )

    def held_units(self) -> dict[str, int]:
        found = self._conn().execute("SELECT item_id, held FROM item_holds")
        return {row["item_id"]: row["held"] for row in found}

    def get_purchase(self, transaction_id: str) -> Purchase | None:
        row = (
            self._conn()
            .execute("SELECT * FROM purchases WHERE transaction_id = ?", (transaction_id,))
            .fetchone()
        )
        return rows.from_row(Purchase, row) if row is not None else None

    def get_purchase_by_request(self, user_id: str, request_id: str) -> Purchase | None:
        row = (
            self._conn()
            .execute(
                "SELECT * FROM purchases WHERE user_id = ? AND request_id = ?",
                (user_id, request_id),
            )
            .fetchone()
        )
        return rows.from_row(Purchase, row) if row is not None else None

    def get_purchase_by_intent(self, payment_intent_id: str) -> Purchase | None:
        row = (
            self._conn()
            .execute("SELECT * FROM purchases WHERE payment_intent_id = ?", (payment_intent_id,))
            .fetchone()
        )
        return rows.from_row(Purchase, row) if row is not None else None

    def list_unsettled_purchases(self, updated_before: datetime, limit: int) -> list[Purchase]:
        found = self._conn().execute(
            "SELECT * FROM purchases WHERE status IN (?, ?, ?) AND updated_at < ?"
            " ORDER BY updated_at, transaction_id LIMIT ?",
            (
                PurchaseStatus.QUEUED.value,
                PurchaseStatus.PENDING.value,
                PurchaseStatus.REQUIRES_ACTION.value,
                stored.dt_out(updated_before),
                limit,
            ),
        )
        return [rows.from_row(Purchase, row) for row in found]

    def _settle(
        self,
        purchase: Purchase,
        expected: PurchaseStatus,
        deltas: dict[str, int],
        events: list[OutboxEvent],
        read_at: datetime | None,
    ) -> bool:
        params = rows.to_params(purchase)
        params["expected"] = PurchaseStatus(expected).value
        sql = rows.SETTLE_PURCHASE
        if read_at is not None:
            sql += " AND updated_at = :read_at"
            params["read_at"] = stored.dt_out(read_at)
        with events_placed(), self._write() as conn:
            if conn.execute(sql, params).rowcount != 1:
                return False
            insert_events(conn, events)
            for item_id, delta in sorted(deltas.items()):
                self._add_held(conn, item_id, delta)
            return True

    def _purchases_newest_first(
        self, user_id: str, before: tuple[str, str] | None, count: int
    ) -> list[Purchase]:
        sql = "SELECT * FROM purchases WHERE user_id = ?"
        args: list[object] = [user_id]
        if before is not None:
            sql += " AND (created_at, transaction_id) < (?, ?)"
            args.extend(before)
        sql += " ORDER BY created_at DESC, transaction_id DESC LIMIT ?"
        args.append(count)
        return [rows.from_row(Purchase, row) for row in self._conn().execute(sql, args)]

    # refunds -------------------------------------------------------------------------------
    def _insert_refund(self, refund: Refund) -> bool:
        with self._write() as conn:
            return conn.execute(CLAIM_REFUND, rows.to_params(refund)).rowcount == 1

    def _get_refund(self, refund_key: str) -> Refund | None:
        row = (
            self._conn()
            .execute("SELECT * FROM refunds WHERE refund_key = ?", (refund_key,))
            .fetchone()
        )
        return rows.from_row(Refund, row) if row is not None else None

    def update_refund(self, refund: Refund) -> None:
        with self._write() as conn:
            if conn.execute(UPDATE_REFUND, rows.to_params(refund)).rowcount != 1:
                raise NotFound(f"no refund {refund.refund_key}")

    def list_refunds(self, transaction_id: str) -> list[Refund]:
        found = self._conn().execute(
            "SELECT * FROM refunds WHERE transaction_id = ? ORDER BY created_at, refund_key",
            (transaction_id,),
        )
        return [rows.from_row(Refund, row) for row in found]

    # webhooks ------------------------------------------------------------------------------
    def record_event(self, event_id: str, event_type: str, now: datetime) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO webhook_events (event_id, event_type, received_at) VALUES (?, ?, ?)"
                " ON CONFLICT (event_id) DO NOTHING",
                (event_id, event_type, stored.dt_out(now)),
            )
            return cur.rowcount == 1
