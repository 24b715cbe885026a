"""Domain records <-> SQLite rows, and the SQL built from the records' fields.

Rows are ``ports.records`` plain values, with what SQLite lacks filled in: booleans as 0/1, nested
lists (purchase lines) as JSON text. Columns are named exactly as the dataclass fields, so a field
added to a record without a migration fails loudly (the INSERT names a column the table lacks).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, TypeVar

from couchpay.ports.records import field_names, from_plain, to_plain
from couchpay.ports.store import SETTLED_FIELDS

Params = dict[str, Any]
R = TypeVar("R")


def _column(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return value


def to_params(record: Any) -> Params:
    """Every field of ``record`` as a named SQL parameter, converted for storage."""
    return {name: _column(value) for name, value in to_plain(record).items()}


def from_row(record_type: type[R], row: sqlite3.Row) -> R:
    return from_plain(record_type, dict(row))


# SQL built from the record fields (constant names only: nothing here comes from a request) --
def _insert(table: str, names: list[str]) -> str:
    values = ", ".join(f":{n}" for n in names)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values})"  # noqa: S608


def _assign(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"{n} = :{n}" for n in names)


def insert_sql(record_type: type[Any], table: str, conflict: str | None = None) -> str:
    sql = _insert(table, field_names(record_type))
    return sql + f" ON CONFLICT ({conflict}) DO NOTHING" if conflict else sql


def update_sql(record_type: type[Any], table: str) -> str:
    """Update every field but the first (the key)."""
    key, *rest = field_names(record_type)
    return f"UPDATE {table} SET {_assign(rest)} WHERE {key} = :{key}"  # noqa: S608


def upsert_sql(record_type: type[Any], table: str) -> str:
    key, *rest = field_names(record_type)
    return (
        _insert(table, field_names(record_type))
        + f" ON CONFLICT ({key}) DO UPDATE SET "
        + ", ".join(f"{n} = excluded.{n}" for n in rest)
    )


SETTLE_PURCHASE = (
    f"UPDATE purchases SET {_assign(SETTLED_FIELDS)}"  # noqa: S608
    " WHERE transaction_id = :transaction_id AND status = :expected"
)
