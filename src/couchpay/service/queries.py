"""Read-only use cases: the catalog (B1) and purchase history (C)."""

from __future__ import annotations

from collections.abc import Callable

from couchpay.domain.catalog import CatalogItem
from couchpay.domain.errors import NotFound
from couchpay.domain.purchases import Purchase
from couchpay.service.context import Services


def get_items(svc: Services) -> tuple[list[CatalogItem], dict[str, int]]:
    """The items on sale, and the units held of the limited ones (``CatalogItem.remaining``)."""
    items = svc.store.list_items()
    held = svc.store.held_units() if any(i.capacity is not None for i in items) else {}
    return items, held


def purchase_history(
    svc: Services,
    user_id: str,
    limit: int,
    cursor: str | None,
    *,
    size_of: Callable[[Purchase], int] | None = None,
    max_bytes: int = 0,
) -> tuple[list[Purchase], str | None]:
    """A page of at most ``limit`` purchases and, with ``size_of``, of at most ``max_bytes``
    (at least one purchase, whatever its size); the cursor continues after the last one."""
    page, next_cursor = svc.store.list_purchases(user_id, limit, cursor)
    if size_of is None:
        return page, next_cursor
    fitting, used = 0, 0
    for purchase in page:
        used += size_of(purchase) + 1  # and its comma
        if used > max_bytes and fitting:
            break
        fitting += 1
    if fitting == len(page):
        return page, next_cursor
    return svc.store.list_purchases(user_id, fitting, cursor)  # the cursor after the last kept


def get_purchase(
    svc: Services, user_id: str, *, transaction_id: str | None, request_id: str | None
) -> Purchase:
    """One of the user's purchases, by id or by the requestId that made it; never another's."""
    if transaction_id is not None:
        purchase = svc.store.get_purchase(transaction_id)
    else:
        purchase = svc.store.get_purchase_by_request(user_id, request_id or "")
    if purchase is None or purchase.user_id != user_id:
        raise NotFound("No such purchase.")
    return purchase
