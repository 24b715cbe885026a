"""The SQLite half of the store's operator queries (``ports.purchase_queries``): purchases
across users newest first, each filter served by an index (by user: ``purchases_by_user_newest``;
by status: ``purchases_by_status_newest``; none: ``purchases_newest``; migration 8; disputed:
the partial ``purchases_disputed_newest``, migration 9), and the
narrow writes ``couchpay users forget`` needs (only PERSONAL_FIELDS; a compare-and-set on the
user's Stripe customer)."""

from __future__ import annotations

from couchpay.adapters import sqlite_rows as rows
from couchpay.adapters.sqlite_connections import SqliteConnections
from couchpay.domain.errors import NotFound
from couchpay.domain.purchases import Purchase
from couchpay.ports.purchase_queries import PERSONAL_FIELDS, PurchaseFilter

WRITE_PERSONAL = (
    "UPDATE purchases SET "  # noqa: S608 - field names are constants
    + ", ".join(f"{name} = :{name}" for name in PERSONAL_FIELDS)
    + " WHERE transaction_id = :transaction_id"
)


class SqlitePurchaseQueries(SqliteConnections):
    def _find_newest_first(
        self, where: PurchaseFilter, before: tuple[str, str] | None, count: int
    ) -> list[Purchase]:
        clauses: list[str] = []
        args: list[object] = []
        if where.user_id is not None:
            clauses.append("user_id = ?")
            args.append(where.user_id)
        if where.status is not None:
            clauses.append("status = ?")
            args.append(where.status.value)
        if where.since_key is not None:
            clauses.append("created_at >= ?")
            args.append(where.since_key)
        if where.disputed:
            clauses.append("dispute IS NOT NULL")
        if before is not None:
            clauses.append("(created_at, transaction_id) < (?, ?)")
            args.extend(before)
        sql = "SELECT * FROM purchases"
        if where.user_id is not None:  # one fan's history is short; a status may be huge
            sql += " INDEXED BY purchases_by_user_newest"
        elif where.disputed:  # disputes are few: their own partial index
            sql += " INDEXED BY purchases_disputed_newest"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY created_at DESC, transaction_id DESC LIMIT ?"
        args.append(count)
        return [rows.from_row(Purchase, row) for row in self._conn().execute(sql, args)]

    def _write_personal_fields(self, purchase: Purchase) -> None:
        params = rows.to_params(purchase)
        wanted = {k: params[k] for k in (*PERSONAL_FIELDS, "transaction_id")}
        with self._write() as conn:
            if conn.execute(WRITE_PERSONAL, wanted).rowcount != 1:
                raise NotFound(f"no purchase {purchase.transaction_id}")

    def clear_stripe_customer(self, user_id: str, customer_id: str) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE users SET stripe_customer_id = NULL"
                " WHERE user_id = ? AND stripe_customer_id = ?",
                (user_id, customer_id),
            )
