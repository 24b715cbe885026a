"""Records <-> plain values: the one mapping every store derives its rows or items from.

A record's stored form has exactly one key per dataclass field (``fields(Record)`` is the declared
field list; nothing is listed by hand), converted to plain values: datetimes as
``stored_keys.dt_out`` text (fixed width, so text order is time order), enums as their values,
nested records as plain dicts (a shipping address) or lists of them (purchase lines), free-form
dicts (Stripe's summary) as compact JSON text (DynamoDB numbers would not round-trip its
floats), money and counts as ``int``.
``None`` stays ``None``; a store decides whether to leave it out.

Reading back takes exactly the declared fields: keys a store adds for its own indexes are ignored,
a missing field falls back to the dataclass default, and a missing field with no default fails
loudly — on every store, because every store goes through here.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from couchpay.ports.stored_keys import dt_in, dt_out

R = TypeVar("R")
Plain = dict[str, Any]


def field_names(record_type: type[Any]) -> list[str]:
    return [f.name for f in dataclasses.fields(record_type)]


@cache
def _types(record_type: type[Any]) -> dict[str, tuple[Any, bool]]:
    """field -> (its type without ``| None``, whether it may be None)."""
    hints = typing.get_type_hints(record_type)
    return {f.name: _strip_optional(hints[f.name]) for f in dataclasses.fields(record_type)}


def _strip_optional(hint: Any) -> tuple[Any, bool]:
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return rest[0], True
    return hint, False


def _nested(hint: Any) -> type[Any] | None:
    """``tuple[Line, ...]`` -> ``Line`` when ``Line`` is a dataclass."""
    if typing.get_origin(hint) is tuple:
        inner = typing.get_args(hint)[0]
        if dataclasses.is_dataclass(inner):
            return inner  # type: ignore[return-value]
    return None


def to_plain(record: Any) -> Plain:
    """Every field of ``record`` as a plain value (see the module docstring)."""
    return {name: _out(getattr(record, name)) for name in field_names(type(record))}


def _out(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_plain(value)  # a nested record (a shipping address): a plain dict
    if isinstance(value, datetime):
        return dt_out(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [to_plain(v) if dataclasses.is_dataclass(v) else v for v in value]
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return value


def from_plain(record_type: type[R], values: Mapping[str, Any]) -> R:
    """The record of ``record_type`` stored as ``values`` (extra keys are ignored)."""
    kwargs: dict[str, Any] = {}
    for name, (hint, optional) in _types(record_type).items():  # type: ignore[arg-type]
        value = values.get(name)
        if value is not None:
            kwargs[name] = _in(hint, value)
        elif optional:
            kwargs[name] = None  # a store may leave a None field out
    return record_type(**kwargs)


def _in(hint: Any, value: Any) -> Any:
    nested = _nested(hint)
    if nested is not None:
        lines = json.loads(value) if isinstance(value, str) else value
        return tuple(from_plain(nested, line) for line in lines)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_plain(hint, json.loads(value) if isinstance(value, str) else value)
    if hint is datetime:
        return dt_in(value)
    if hint is bool:
        return bool(value)
    if hint is int:
        return _int(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if typing.get_origin(hint) is dict:
        return json.loads(value) if isinstance(value, str) else dict(value)
    return value


def _int(value: Any) -> int:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"not an integer: {value!r}")
