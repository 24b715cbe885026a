"""Mapping between domain records and SQLite rows, the SQL built from it, and the history cursor.

Columns are named exactly as the dataclass fields, so a field added to a record without a
migration fails loudly. Datetimes are stored as fixed-width ISO-8601 UTC strings with microseconds
(``2025-01-31T12:00:00.000000+00:00``), so text order is time order. Enums are stored as their
values, booleans as 0/1, money as integer cents, nested data (purchase lines, the Stripe summary)
as JSON.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import datetime
from enum import Enum
from typing import Any

from couchpay.adapters.stored_keys import dt_in, dt_out
from couchpay.domain.cards import Card, User
from couchpay.domain.catalog import CatalogItem, ItemKind
from couchpay.domain.purchases import Purchase, PurchaseLine
from couchpay.domain.refunds import Refund, RefundStatus
from couchpay.domain.shipping import ShippingAddress
from couchpay.domain.statuses import CardStatus, PurchaseStatus

Params = dict[str, Any]


def _column(value: Any) -> Any:
    if isinstance(value, datetime):
        return dt_out(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict | tuple):
        return json.dumps(value, separators=(",", ":"), default=dataclasses.asdict)
    if isinstance(value, ShippingAddress):
        return json.dumps(dataclasses.asdict(value), separators=(",", ":"))
    return value


def to_params(record: Card | CatalogItem | Purchase | Refund) -> Params:
    """Every field of ``record`` as a named SQL parameter, converted for storage."""
    return {f.name: _column(getattr(record, f.name)) for f in dataclasses.fields(record)}


def _dates(row: sqlite3.Row, *names: str) -> Params:
    values = dict(row)
    values.update({name: dt_in(values[name]) for name in names})
    return values


def user_from_row(row: sqlite3.Row) -> User:
    return User(**_dates(row, "created_at"))


def card_from_row(row: sqlite3.Row) -> Card:
    values = _dates(row, "created_at", "updated_at")
    values.update(active=bool(values["active"]), status=CardStatus(values["status"]))
    return Card(**values)


def item_from_row(row: sqlite3.Row) -> CatalogItem:
    values = dict(row)
    starts = values["show_starts_at"]
    values.update(
        active=bool(values["active"]),
        kind=ItemKind(values["kind"]),
        show_starts_at=dt_in(starts) if starts is not None else None,
    )
    return CatalogItem(**values)


def refund_from_row(row: sqlite3.Row) -> Refund:
    values = _dates(row, "created_at", "updated_at")
    values.update(status=RefundStatus(values["status"]))
    return Refund(**values)


def purchase_from_row(row: sqlite3.Row) -> Purchase:
    values = _dates(row, "created_at", "updated_at")
    values.update(
        active=bool(values["active"]),
        status=PurchaseStatus(values["status"]),
        items=tuple(PurchaseLine(**line) for line in json.loads(values["items"])),
        stripe_response=json.loads(values["stripe_response"]),
        shipping_address=_address(values["shipping_address"]),
    )
    return Purchase(**values)


def _address(stored: str | None) -> ShippingAddress | None:
    return ShippingAddress(**json.loads(stored)) if stored is not None else None


# SQL built from the record fields (constant names only: nothing here comes from a request) --
def _names(record_type: type[Any]) -> list[str]:
    return [f.name for f in dataclasses.fields(record_type)]


def _insert(table: str, names: list[str]) -> str:
    values = ", ".join(f":{n}" for n in names)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values})"  # noqa: S608


def _assign(names: list[str]) -> str:
    return ", ".join(f"{n} = :{n}" for n in names)


INSERT_CARD = _insert("cards", _names(Card))
UPDATE_CARD = f"UPDATE cards SET {_assign(_names(Card)[1:])} WHERE card_id = :card_id"  # noqa: S608
UPSERT_ITEM = (
    _insert("catalog_items", _names(CatalogItem))
    + " ON CONFLICT (item_id) DO UPDATE SET "
    + ", ".join(f"{n} = excluded.{n}" for n in _names(CatalogItem)[1:])
)
CLAIM_PURCHASE = _insert("purchases", _names(Purchase)) + (
    " ON CONFLICT (user_id, request_id) DO NOTHING"
)
SETTLED_FIELDS = [
    "updated_at",
    "payment_method_id",
    "payment_intent_id",
    "active",
    "status",
    "failure_code",
    "failure_message",
    "stripe_response",
    "refunded_cents",
]
CLAIM_REFUND = _insert("refunds", _names(Refund)) + " ON CONFLICT (refund_key) DO NOTHING"
UPDATE_REFUND = (
    f"UPDATE refunds SET {_assign(_names(Refund)[1:])}"  # noqa: S608
    " WHERE refund_key = :refund_key"
)
SETTLE_PURCHASE = (
    f"UPDATE purchases SET {_assign(SETTLED_FIELDS)}"  # noqa: S608
    " WHERE transaction_id = :transaction_id AND status = :expected"
)
