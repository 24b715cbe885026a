"""The outbox on SQLite (schema migration 6): ``outbox_events``, primary key (subject, sequence).

Events are inserted inside the caller's ``BEGIN IMMEDIATE`` transaction (``insert_events``), so
an event exists exactly when its change does; a taken (subject, sequence) rolls the whole write
back as the port's ``OutboxConflict``. Delivery state is a compare-and-set on ``version``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from couchpay.adapters import sqlite_rows as rows
from couchpay.adapters.sqlite_connections import SqliteConnections
from couchpay.domain.events import OutboxEvent
from couchpay.ports import stored_keys as stored
from couchpay.ports.outbox import OutboxConflict, OutboxStore

INSERT_EVENT = rows.insert_sql(OutboxEvent, "outbox_events")
DELIVERY_FIELDS = ("pending", "delivered", "attempts", "next_attempt_at", "last_error", "version")
UPDATE_DELIVERY = (
    "UPDATE outbox_events SET "  # noqa: S608 - constant field names only
    + ", ".join(f"{n} = :{n}" for n in DELIVERY_FIELDS)
    + " WHERE subject = :subject AND sequence = :sequence AND version = :expected"
)


@contextmanager
def events_placed() -> Iterator[None]:
    """Turn a taken (subject, sequence) into ``OutboxConflict`` (the transaction rolls back)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if "outbox_events.subject, outbox_events.sequence" not in str(exc):
            raise
        raise OutboxConflict(str(exc)) from exc


def insert_events(conn: sqlite3.Connection, events: list[OutboxEvent]) -> None:
    for event in events:
        conn.execute(INSERT_EVENT, rows.to_params(event))


class SqliteOutbox(SqliteConnections, OutboxStore):
    def _events(self, sql: str, args: tuple[object, ...]) -> list[OutboxEvent]:
        return [rows.from_row(OutboxEvent, r) for r in self._conn().execute(sql, args)]

    def outbox_event(self, event_id: str) -> OutboxEvent | None:
        found = self._events(
            "SELECT * FROM outbox_events WHERE event_id = ? ORDER BY created_at LIMIT 1",
            (event_id,),
        )
        return found[0] if found else None

    def outbox_subject(self, subject: str) -> list[OutboxEvent]:
        return self._events(
            "SELECT * FROM outbox_events WHERE subject = ? ORDER BY sequence", (subject,)
        )

    def outbox_pending(self, limit: int, due_by: datetime | None = None) -> list[OutboxEvent]:
        due = "9999" if due_by is None else stored.dt_out(due_by)
        return self._events(
            "SELECT * FROM outbox_events WHERE pending = 1"
            " AND COALESCE(next_attempt_at, created_at) <= ?"
            " ORDER BY COALESCE(next_attempt_at, created_at), subject, sequence LIMIT ?",
            (due, limit),
        )

    def outbox_since(self, since: datetime, limit: int) -> list[OutboxEvent]:
        return self._events(
            "SELECT * FROM outbox_events WHERE created_at >= ?"
            " ORDER BY created_at, subject, sequence LIMIT ?",
            (stored.dt_out(since), limit),
        )

    def _outbox_last_sequence(self, subject: str) -> int:
        row = (
            self._conn()
            .execute("SELECT MAX(sequence) FROM outbox_events WHERE subject = ?", (subject,))
            .fetchone()
        )
        return int(row[0] or 0)

    def _outbox_update(self, event: OutboxEvent, expected_version: int) -> bool:
        params = rows.to_params(event)
        params["expected"] = expected_version
        with self._write() as conn:
            return conn.execute(UPDATE_DELIVERY, params).rowcount == 1
