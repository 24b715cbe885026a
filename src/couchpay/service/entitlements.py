"""``get-user-entitlements``: the fan's entitlements (``domain.entitlements``), a page at a time.

Pages walk the fan's purchases newest first with the history's cursor (a cursor continues after
the last purchase looked at). A page holds at most ``limit`` entitlements and, with ``size_of``,
at most ``max_bytes`` of them, but never splits one purchase's entitlements (so a page holds at
least one purchase's, whatever their size). A request looks at no more than ``MAX_SCANNED``
purchases: a fan with many purchases that entitle to nothing (declined, refunded) gets a short
page, even an empty one, with a ``nextCursor``; only a null ``nextCursor`` means the end."""

from __future__ import annotations

from collections.abc import Callable

from couchpay.domain.entitlements import Entitlement, entitlements_of
from couchpay.domain.purchases import Purchase
from couchpay.ports import stored_keys
from couchpay.service.context import Services

SCAN_BATCH = 50
MAX_SCANNED = 500


def _after(p: Purchase) -> str:
    return stored_keys.encode_cursor(stored_keys.dt_out(p.created_at), p.transaction_id)


def entitlements_page(
    svc: Services,
    user_id: str,
    limit: int,
    cursor: str | None,
    *,
    size_of: Callable[[Entitlement], int] | None = None,
    max_bytes: int = 0,
) -> tuple[list[Entitlement], str | None]:
    catalog = {item.item_id: item for item in svc.store.list_all_items()}
    found: list[Entitlement] = []
    used, scanned, after = 0, 0, cursor
    while scanned < MAX_SCANNED:
        page, more = svc.store.list_purchases(user_id, SCAN_BATCH, after)
        for purchase in page:
            mine = entitlements_of(purchase, catalog)
            size = sum(size_of(e) + 1 for e in mine) if size_of is not None else 0
            too_many = len(found) + len(mine) > limit
            too_big = size_of is not None and used + size > max_bytes
            if mine and found and (too_many or too_big):
                return found, after
            found += mine
            used += size
            scanned += 1
            after = _after(purchase)
        if more is None:
            return found, None
    return found, after
