"""The SQLite schema: an ordered list of migrations, applied once each, at open time.

Each migration runs inside one ``BEGIN IMMEDIATE`` transaction together with the row that records
it in ``schema_version``, so two processes opening the same file at once apply it exactly once:
the second waits for the write lock, then sees the version already there. Migrations are only
ever appended, never edited. Nothing is ever deleted, so no table has ON DELETE rules.
"""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import UTC, datetime

Migration = tuple[str, ...]

MIGRATIONS: tuple[Migration, ...] = (
    # 1: the first schema
    (
        """CREATE TABLE users (
            user_id            TEXT PRIMARY KEY,
            stripe_customer_id TEXT,
            default_card_id    TEXT,
            created_at         TEXT NOT NULL
        )""",
        """CREATE TABLE cards (
            card_id            TEXT PRIMARY KEY,
            user_id            TEXT NOT NULL REFERENCES users (user_id),
            stripe_customer_id TEXT NOT NULL,
            card_token         TEXT NOT NULL,
            fingerprint        TEXT NOT NULL,
            brand              TEXT NOT NULL,
            last_four          TEXT NOT NULL,
            exp_month          INTEGER NOT NULL,
            exp_year           INTEGER NOT NULL,
            name_on_card       TEXT,
            created_at         TEXT NOT NULL,
            updated_at         TEXT NOT NULL,
            active             INTEGER NOT NULL CHECK (active IN (0, 1)),
            status             TEXT NOT NULL
        )""",
        "CREATE INDEX cards_by_user ON cards (user_id, created_at)",
        """CREATE TABLE catalog_items (
            item_id        TEXT PRIMARY KEY,
            name           TEXT NOT NULL,
            kind           TEXT NOT NULL,
            price_cents    INTEGER NOT NULL CHECK (price_cents >= 0),
            shipping_cents INTEGER NOT NULL CHECK (shipping_cents >= 0),
            active         INTEGER NOT NULL CHECK (active IN (0, 1))
        )""",
        "CREATE INDEX catalog_items_active ON catalog_items (active, price_cents, name)",
        """CREATE TABLE purchases (
            transaction_id       TEXT PRIMARY KEY,
            request_id           TEXT NOT NULL,
            request_hash         TEXT NOT NULL,
            user_id              TEXT NOT NULL,
            card_id              TEXT,
            card_brand           TEXT NOT NULL,
            card_last_four       TEXT NOT NULL,
            items                TEXT NOT NULL,
            subtotal_cents       INTEGER NOT NULL,
            streaming_cost_cents INTEGER NOT NULL,
            shipping_cents       INTEGER NOT NULL,
            total_cents          INTEGER NOT NULL,
            currency             TEXT NOT NULL,
            created_at           TEXT NOT NULL,
            updated_at           TEXT NOT NULL,
            payment_method_id    TEXT NOT NULL,
            payment_intent_id    TEXT,
            active               INTEGER NOT NULL CHECK (active IN (0, 1)),
            status               TEXT NOT NULL,
            failure_code         TEXT,
            failure_message      TEXT,
            stripe_response      TEXT NOT NULL,
            UNIQUE (user_id, request_id)
        )""",
        """CREATE INDEX purchases_by_user_newest
            ON purchases (user_id, created_at DESC, transaction_id DESC)""",
        "CREATE INDEX purchases_by_payment_intent ON purchases (payment_intent_id)",
        """CREATE TABLE webhook_events (
            event_id    TEXT PRIMARY KEY,
            event_type  TEXT NOT NULL,
            received_at TEXT NOT NULL
        )""",
    ),
    # 2: refunds, and the look-ups webhooks, reconcile and operator jobs need
    (
        "ALTER TABLE purchases ADD COLUMN refunded_cents INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX purchases_unsettled ON purchases (status, updated_at)",
        "CREATE INDEX cards_by_token ON cards (card_token)",
        "CREATE INDEX cards_by_status ON cards (status, card_id)",
        """CREATE TABLE refunds (
            refund_key       TEXT PRIMARY KEY,
            transaction_id   TEXT NOT NULL REFERENCES purchases (transaction_id),
            amount_cents     INTEGER NOT NULL CHECK (amount_cents > 0),
            created_at       TEXT NOT NULL,
            updated_at       TEXT NOT NULL,
            status           TEXT NOT NULL,
            stripe_refund_id TEXT,
            failure_code     TEXT
        )""",
        "CREATE INDEX refunds_by_purchase ON refunds (transaction_id, created_at)",
    ),
    # 3: showtime: limited items (capacity) and the units their open and paid purchases hold
    (
        "ALTER TABLE catalog_items ADD COLUMN capacity INTEGER CHECK (capacity >= 0)",
        """CREATE TABLE item_holds (
            item_id TEXT PRIMARY KEY REFERENCES catalog_items (item_id),
            held    INTEGER NOT NULL
        )""",
    ),
    # 4: one live card per (user, fingerprint), enforced by the database. Duplicates saved
    # before (concurrent saves of one card) are first cancelled, keeping the oldest; a user
    # whose default was a cancelled duplicate gets the kept card as default.
    (
        """UPDATE users SET default_card_id = (
            SELECT k.card_id FROM cards d JOIN cards k
              ON k.user_id = d.user_id AND k.fingerprint = d.fingerprint
                AND k.active = 1 AND k.status = 'live'
            WHERE d.card_id = users.default_card_id
            ORDER BY k.created_at, k.card_id LIMIT 1)
          WHERE default_card_id IN (
            SELECT card_id FROM cards WHERE active = 1 AND status = 'live')""",
        """UPDATE cards SET active = 0, status = 'cancelled'
          WHERE active = 1 AND status = 'live' AND EXISTS (
            SELECT 1 FROM cards k
            WHERE k.user_id = cards.user_id AND k.fingerprint = cards.fingerprint
              AND k.active = 1 AND k.status = 'live'
              AND (k.created_at, k.card_id) < (cards.created_at, cards.card_id))""",
        """CREATE UNIQUE INDEX cards_one_live_per_fingerprint
            ON cards (user_id, fingerprint) WHERE active = 1 AND status = 'live'""",
    ),
    # 5: receipts and shipping; what a catalog item is about, and when a show starts
    (
        "ALTER TABLE purchases ADD COLUMN shipping_address TEXT",
        "ALTER TABLE purchases ADD COLUMN receipt_email TEXT",
        "ALTER TABLE purchases ADD COLUMN save_card INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE catalog_items ADD COLUMN description TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE catalog_items ADD COLUMN show_starts_at TEXT",
    ),
    # 6: fulfillment events (the transactional outbox), ordered per subject
    (
        """CREATE TABLE outbox_events (
            event_id        TEXT NOT NULL,
            subject         TEXT NOT NULL,
            sequence        INTEGER NOT NULL CHECK (sequence >= 1),
            type            TEXT NOT NULL,
            created_at      TEXT NOT NULL,
            data            TEXT NOT NULL,
            pending         INTEGER NOT NULL CHECK (pending IN (0, 1)),
            delivered       TEXT NOT NULL,
            attempts        INTEGER NOT NULL,
            next_attempt_at TEXT,
            last_error      TEXT,
            version         INTEGER NOT NULL,
            PRIMARY KEY (subject, sequence)
        )""",
        "CREATE INDEX outbox_events_by_id ON outbox_events (event_id)",
        "CREATE INDEX outbox_events_by_time ON outbox_events (created_at, subject, sequence)",
        """CREATE INDEX outbox_events_due
            ON outbox_events (COALESCE(next_attempt_at, created_at), subject, sequence)
            WHERE pending = 1""",
    ),
    # 7: disputes: the cardholder's dispute of a purchase's charge, as JSON (domain.disputes)
    ("ALTER TABLE purchases ADD COLUMN dispute TEXT",),
    # 8: operator look-ups across users, newest first, by status or all of them, with no table
    # scan (``couchpay purchases list``). IF NOT EXISTS: harmless whatever order they land in.
    (
        """CREATE INDEX IF NOT EXISTS purchases_by_status_newest
            ON purchases (status, created_at DESC, transaction_id DESC)""",
        """CREATE INDEX IF NOT EXISTS purchases_newest
            ON purchases (created_at DESC, transaction_id DESC)""",
    ),
    # 9: disputed purchases, newest first (``couchpay purchases list --disputed``): few, so a
    # partial index of their own
    (
        """CREATE INDEX IF NOT EXISTS purchases_disputed_newest
            ON purchases (created_at DESC, transaction_id DESC) WHERE dispute IS NOT NULL""",
    ),
    # 10: the shared line's slot of a queued purchase (AWS; a reconnect is told its place)
    ("ALTER TABLE purchases ADD COLUMN line_slot_at TEXT",),
)

LATEST_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The file was migrated by a newer couchpay than this one."""


def enable_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Switch the file to WAL (a no-op once it is). On a fresh file several processes may race to
    switch it, and SQLite answers the losers SQLITE_BUSY without waiting: retry until timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.005, 0.05))  # jitter
            continue
        if str(mode).lower() != "wal":
            raise RuntimeError(f"could not switch {conn} to WAL (journal_mode={mode})")
        return


def current_version(conn: sqlite3.Connection) -> int:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the file up to ``LATEST_VERSION``; returns how many migrations this call applied.

    ``conn`` must be in autocommit mode (``isolation_level=None``)."""
    if current_version(conn) == LATEST_VERSION:
        return 0  # the common case: no write lock taken
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_version (
                version    INTEGER PRIMARY KEY,
                applied_at TEXT NOT NULL
            )"""
        )
        version = current_version(conn)
        if version > LATEST_VERSION:
            raise SchemaTooNew(f"database schema v{version} is newer than v{LATEST_VERSION}")
        applied = 0
        for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (number, datetime.now(UTC).isoformat(timespec="microseconds")),
            )
            applied += 1
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return applied
