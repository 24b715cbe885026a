"""Read-only use cases: the catalog (B1) and purchase history (C)."""

from __future__ import annotations

from couchpay.domain.catalog import CatalogItem
from couchpay.domain.purchases import Purchase
from couchpay.service.context import Services


def get_items(svc: Services) -> tuple[list[CatalogItem], dict[str, int]]:
    """The items on sale, and the units held of the limited ones (``CatalogItem.remaining``)."""
    items = svc.store.list_items()
    held = svc.store.held_units() if any(i.capacity is not None for i in items) else {}
    return items, held


def purchase_history(
    svc: Services, user_id: str, limit: int, cursor: str | None
) -> tuple[list[Purchase], str | None]:
    return svc.store.list_purchases(user_id, limit, cursor)
