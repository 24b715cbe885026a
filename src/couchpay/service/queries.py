"""Read-only use cases: the catalog (B1) and purchase history (C)."""

from __future__ import annotations

from couchpay.domain.catalog import CatalogItem
from couchpay.domain.purchases import Purchase
from couchpay.service.context import Services


def get_items(svc: Services) -> list[CatalogItem]:
    return svc.store.list_items()


def purchase_history(
    svc: Services, user_id: str, limit: int, cursor: str | None
) -> tuple[list[Purchase], str | None]:
    return svc.store.list_purchases(user_id, limit, cursor)
