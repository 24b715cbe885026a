"""Read-only use cases: the catalog (B1) and purchase history (C)."""

from __future__ import annotations

from couchpay.domain.catalog import DEMO_CATALOG, CatalogItem
from couchpay.domain.purchases import Purchase
from couchpay.service.context import Services


def get_items(svc: Services) -> list[CatalogItem]:
    return svc.store.list_items()


def purchase_history(
    svc: Services, user_id: str, limit: int, cursor: str | None
) -> tuple[list[Purchase], str | None]:
    return svc.store.list_purchases(user_id, limit, cursor)


def seed_demo_catalog(svc: Services) -> None:
    """A fresh database gets the demo catalog (livestream, meet and greet, poster)."""
    if not svc.store.list_all_items():  # not list_items: a shop that closed everything stays closed
        for item in DEMO_CATALOG:
            svc.store.put_item(item)
