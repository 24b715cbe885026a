"""The store's operator half: purchases looked up across users (``couchpay purchases list``) and
a fan's personal data rewritten on request (``couchpay users forget``).

Invariants, shared by every store (written here once, as template methods; adapters implement
the primitives):

* ``find_purchases`` pages newest first, by ``(created_at, transaction_id)`` descending, with the
  same opaque cursor as a fan's history; a filter narrows the set, it never reorders it. Stores
  serve it from indexes (SQLite indexes of migrations 8 and 9, DynamoDB GSIs): nothing scans a
  table.
* ``erase_personal_data`` may change only PERSONAL_FIELDS on a purchase, and ``settle_purchase``
  never changes them (they are not SETTLED_FIELDS): erased data never comes back through a late
  webhook, and erasing never touches an amount, an id, a status or a date.
* ``clear_stripe_customer`` forgets the user's Stripe customer only if it is still the one named
  (a compare-and-set), so a re-run or a race never drops a customer set since.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from couchpay.domain.errors import BadRequest
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports import stored_keys

PERSONAL_FIELDS = ("shipping_address", "receipt_email", "request_hash")
"""What ``erase_personal_data`` may change on a purchase. ``request_hash`` is a digest of the
shipping address (and the card and cart): erasing the address without it would leave a value
that confirms a guessed address."""

MAX_PAGE = 500


@dataclass(frozen=True)
class PurchaseFilter:
    """What ``couchpay purchases list`` narrows by; every field left None (``disputed``:
    False) matches everything."""

    user_id: str | None = None
    status: PurchaseStatus | None = None
    since: datetime | None = None
    """Purchases created at or after this instant."""
    disputed: bool = False
    """Only purchases whose charge was ever disputed (open or closed)."""

    def matches(self, p: Purchase) -> bool:
        """The filter's one definition (the in-memory store uses it; DynamoDB re-checks what
        an index, which lags the table, named)."""
        return (
            (self.user_id is None or p.user_id == self.user_id)
            and (self.status is None or p.status is self.status)
            and (self.since is None or p.created_at >= self.since)
            and (not self.disputed or p.dispute is not None)
        )

    @property
    def since_key(self) -> str | None:
        """``since`` as stored (``stored_keys.dt_out``): text order is time order."""
        return stored_keys.dt_out(self.since) if self.since is not None else None


def newest_first_page(found: list[Purchase], limit: int) -> tuple[list[Purchase], str | None]:
    """``limit`` of ``found`` (fetched as ``limit + 1``) and the cursor of the next page (None
    at the end): the one paging rule of every newest-first purchase listing."""
    page = found[:limit]
    if len(found) <= limit:
        return page, None
    last = page[-1]
    return page, stored_keys.encode_cursor(stored_keys.dt_out(last.created_at), last.transaction_id)


class PurchaseQueries(ABC):
    def find_purchases(
        self, where: PurchaseFilter, limit: int, cursor: str | None
    ) -> tuple[list[Purchase], str | None]:
        """Purchases of every user matching ``where``, newest first, a page at a time."""
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"invalid limit (1 to {MAX_PAGE})")
        before = stored_keys.decode_cursor(cursor) if cursor is not None else None
        return newest_first_page(self._find_newest_first(where, before, limit + 1), limit)

    @abstractmethod
    def _find_newest_first(
        self, where: PurchaseFilter, before: tuple[str, str] | None, count: int
    ) -> list[Purchase]:
        """Up to ``count`` purchases matching ``where``, by (created_at, transaction_id)
        descending, strictly before ``before`` (a stored ``created_at`` text and an id)."""

    def erase_personal_data(self, purchase: Purchase) -> None:
        """Write ``purchase``'s PERSONAL_FIELDS over the stored record, nothing else (NotFound
        when there is no such record)."""
        self._write_personal_fields(purchase)

    @abstractmethod
    def _write_personal_fields(self, purchase: Purchase) -> None:
        """Set PERSONAL_FIELDS (only) of the stored purchase to ``purchase``'s values."""

    @abstractmethod
    def clear_stripe_customer(self, user_id: str, customer_id: str) -> None:
        """Remove the user's Stripe customer if it is still ``customer_id``; else nothing."""
