"""Operator use cases on the catalog: add, update, deactivate (and re-activate) items.

Every rule is checked before anything is written: a refused change writes nothing. Items are
never deleted; a deactivated item cannot be bought (``item_unavailable``) but purchases keep
the name and unit price they were made with, so history never changes with the catalog.
Only a livestream has a show start time (stored in UTC); a description is at most
``MAX_DESCRIPTION_LENGTH`` characters."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from couchpay.domain.catalog import DEMO_CATALOG, CatalogItem, ItemKind
from couchpay.domain.errors import BadRequest, NotFound
from couchpay.domain.pricing import MAX_CHARGE_CENTS
from couchpay.service.context import Services

MAX_NAME_LENGTH = 80
MAX_DIGITS = len(str(MAX_CHARGE_CENTS))  # longer is out of range, whatever the digits
MAX_DESCRIPTION_LENGTH = 500
SHIPPABLE_KINDS = frozenset({ItemKind.MERCH})
KINDS = ", ".join(k.value for k in ItemKind)


def list_all(svc: Services) -> list[CatalogItem]:
    """Every item, on sale or not, ordered by price, then name."""
    return svc.store.list_all_items()


def seed_if_fresh(svc: Services) -> bool:
    """Give a database that never had a catalog the demo catalog, as ``couchpay serve`` does.

    Unlike a check on *active* items, this never brings back items an operator deactivated."""
    if svc.store.list_all_items():
        return False
    for item in DEMO_CATALOG:
        svc.store.put_item(item)
    return True


def add_item(
    svc: Services,
    name: str,
    kind: ItemKind | str,
    price_cents: int,
    shipping_cents: int = 0,
    capacity: int | None = None,
    *,
    description: str = "",
    show_starts_at: str | None = None,
) -> CatalogItem:
    item = CatalogItem(
        item_id=str(uuid.uuid4()),
        name=clean_name(name),
        kind=parse_kind(kind),
        price_cents=check_cents("price", price_cents, MAX_CHARGE_CENTS),
        shipping_cents=check_cents("shipping", shipping_cents, MAX_CHARGE_CENTS),
        capacity=None if capacity is None else check_capacity(svc, capacity),
        description=clean_description(description),
        show_starts_at=parse_show_start(show_starts_at or ""),
    )
    _check(svc, item)
    svc.store.put_item(item)
    return item


def update_item(
    svc: Services,
    item_id: str,
    *,
    name: str | None = None,
    kind: ItemKind | str | None = None,
    price_cents: int | None = None,
    shipping_cents: int | None = None,
    capacity: int | None = None,
    unlimited: bool = False,
    description: str | None = None,
    show_starts_at: str | None = None,
) -> CatalogItem:
    """Change any of name, kind, price, shipping, capacity (``unlimited``: none), description
    and show start (``""`` or ``none`` clears it). Purchases already made keep theirs; a capacity
    below the units already held or sold is refused."""
    current = get_item(svc, item_id)
    changes = (name, kind, price_cents, shipping_cents, capacity, description, show_starts_at)
    if all(c is None for c in changes) and not unlimited:
        raise BadRequest("Nothing to update: give a new name, kind, price, shipping or capacity.")
    if capacity is not None and unlimited:
        raise BadRequest("Give a capacity or unlimited, not both.")
    updated = replace(
        current,
        name=current.name if name is None else clean_name(name),
        kind=current.kind if kind is None else parse_kind(kind),
        price_cents=current.price_cents
        if price_cents is None
        else check_cents("price", price_cents, MAX_CHARGE_CENTS),
        shipping_cents=current.shipping_cents
        if shipping_cents is None
        else check_cents("shipping", shipping_cents, MAX_CHARGE_CENTS),
        capacity=None
        if unlimited
        else current.capacity
        if capacity is None
        else check_capacity(svc, capacity, item_id),
        description=current.description if description is None else clean_description(description),
        show_starts_at=current.show_starts_at
        if show_starts_at is None
        else parse_show_start(show_starts_at),
    )
    _check(svc, updated)
    if updated != current:
        svc.store.put_item(updated)
    return updated


def deactivate_item(svc: Services, item_id: str) -> tuple[CatalogItem, bool]:
    """Take an item off sale. Returns (item, True if this call changed it); idempotent."""
    return _set_active(svc, item_id, active=False)


def activate_item(svc: Services, item_id: str) -> tuple[CatalogItem, bool]:
    """Put a deactivated item back on sale (at its current price). Idempotent."""
    item = get_item(svc, item_id)
    _check_unique_name(svc, item)
    return _set_active(svc, item_id, active=True)


def get_item(svc: Services, item_id: str) -> CatalogItem:
    item = svc.store.get_item(item_id) if item_id else None
    if item is None:
        raise NotFound(f"No catalog item with id {item_id!r} (see `couchpay catalog list`).")
    return item


def _set_active(svc: Services, item_id: str, *, active: bool) -> tuple[CatalogItem, bool]:
    item = get_item(svc, item_id)
    if item.active is active:
        return item, False
    changed = replace(item, active=active)
    svc.store.put_item(changed)
    return changed, True


# rules ---------------------------------------------------------------------------------------
def clean_name(name: str) -> str:
    if not isinstance(name, str):
        raise BadRequest("The name must be text.")
    cleaned = " ".join(name.split())
    if not cleaned:
        raise BadRequest("The name cannot be empty.")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise BadRequest(
            f"The name is {len(cleaned)} characters long; at most {MAX_NAME_LENGTH} are allowed."
        )
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise BadRequest("The name cannot contain control characters.")
    return cleaned


def parse_kind(kind: ItemKind | str) -> ItemKind:
    try:
        return ItemKind(kind)
    except ValueError:
        raise BadRequest(f"Unknown kind {kind!r}: use one of {KINDS}.") from None


def check_cents(what: str, value: object, maximum: int | None = None) -> int:
    """A whole, non-negative number of cents (``bool`` and floats are refused, never rounded)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"The {what} must be a whole number of cents, not {value!r}.")
    if value < 0:
        raise BadRequest(f"The {what} cannot be negative ({value} cents).")
    if maximum is not None and value > maximum:
        raise BadRequest(f"The {what} is {value} cents; at most {maximum} cents are allowed.")
    return value


MAX_CAPACITY = 10_000_000


def check_capacity(svc: Services, capacity: object, item_id: str | None = None) -> int:
    """Units an item may ever sell: a whole number, not below what is already held or sold."""
    if not isinstance(capacity, int) or isinstance(capacity, bool):
        raise BadRequest("capacity must be a whole number of units.")
    if not 0 <= capacity <= MAX_CAPACITY:
        raise BadRequest(f"capacity must be between 0 and {MAX_CAPACITY}.")
    taken = svc.store.held_units().get(item_id, 0) if item_id else 0
    if capacity < taken:
        raise BadRequest(f"{taken} units are already held or sold: capacity must be at least that.")
    return capacity


def parse_count(what: str, text: str) -> int:
    raw = text.strip()
    if not raw.isdigit():
        raise BadRequest(f"{what} must be a whole number, like 20.")
    return int(raw)


def parse_cents(what: str, text: str) -> int:
    """Parse an operator's ``--price-cents`` / ``--shipping-cents`` argument."""
    raw = text.strip()
    digits = raw.removeprefix("-").removeprefix("+")
    if not digits.isascii() or not digits.isdigit():
        raise BadRequest(
            f"The {what} must be a whole number of cents (e.g. 2000 for 20.00), not {text[:40]!r}."
        )
    if len(digits.lstrip("0")) > MAX_DIGITS:  # before int(): Python refuses 4,300+ digits
        raise BadRequest(f"The {what} is too large: at most {MAX_CHARGE_CENTS} cents are allowed.")
    return check_cents(what, int(raw), MAX_CHARGE_CENTS)


def clean_description(text: str) -> str:
    cleaned = unicodedata.normalize("NFC", text).strip()
    if len(cleaned) > MAX_DESCRIPTION_LENGTH or any(
        unicodedata.category(c) == "Cc" for c in cleaned
    ):
        raise BadRequest(
            f"The description must be at most {MAX_DESCRIPTION_LENGTH} characters of plain text."
        )
    return cleaned


def parse_show_start(text: str) -> datetime | None:
    """ISO 8601 with a UTC offset (``2027-03-14T20:00:00Z``); ``""`` or ``none``: no time."""
    if text.strip().lower() in ("", "none"):
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise BadRequest(
            f"The show start must be an ISO 8601 time, e.g. 2027-03-14T20:00:00Z, not {text!r}."
        ) from exc
    if when.tzinfo is None:
        raise BadRequest("The show start needs a UTC offset (Z or +01:00): times are absolute.")
    return when.astimezone(UTC)


def _check(svc: Services, item: CatalogItem) -> None:
    if item.show_starts_at is not None and item.kind is not ItemKind.LIVESTREAM:
        raise BadRequest("Only a livestream has a show start time.")
    if item.shipping_cents and item.kind not in SHIPPABLE_KINDS:
        raise BadRequest(
            f"A {item.kind.value} item is not shipped: its shipping must be 0 "
            f"(only {', '.join(sorted(k.value for k in SHIPPABLE_KINDS))} items ship)."
        )
    _check_unique_name(svc, item)


def _check_unique_name(svc: Services, item: CatalogItem) -> None:
    wanted = item.name.casefold()
    for other in svc.store.list_all_items():
        if other.item_id != item.item_id and other.name.casefold() == wanted:
            state = "" if other.active else ", deactivated"
            raise BadRequest(
                f"An item named {other.name!r} already exists ({other.item_id}{state}); "
                "names are unique, whatever their case."
            )
