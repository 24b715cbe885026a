"""What a fan may watch or collect now, derived from their purchases (a pure function).

One entitlement per line of a paid purchase: a livestream to watch (with its show's start time,
from the catalog as it is now, so a rescheduled show reads right), meet-and-greet slots, merch to
ship. Nothing is stored: the purchases are the truth, so an entitlement can never disagree with
the money.

Rules, in order (``entitlement_status``):
* only a purchase that was paid counts (``succeeded``; ``refunded`` is a full refund: revoked);
* a lost dispute revokes (the cardholder's bank took the money back);
* an open dispute (an inquiry or a chargeback) suspends: the entitlement is listed as
  ``suspended`` until the dispute closes; won, an inquiry closed without a chargeback,
  ``prevented`` or ``charge_refunded`` give it back (a refund then rules as above);
* a partial refund changes nothing: couchpay refunds amounts, not items, so it cannot say which
  item a partial refund was for (a goodwill refund, the shipping of a late poster). Refund in
  full to revoke.
A line whose item is missing from the catalog (never the case: items are never deleted) is left
out rather than guessed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from couchpay.domain.catalog import CatalogItem, ItemKind
from couchpay.domain.disputes import DisputeStatus
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PurchaseStatus


class EntitlementStatus(StrEnum):
    ACTIVE = "active"
    """The fan may watch / attend / be shipped it."""
    SUSPENDED = "suspended"
    """A dispute of the payment is open: not now; it comes back if the dispute is won."""


@dataclass(frozen=True)
class Entitlement:
    transaction_id: str
    item_id: str
    name: str
    """The item's name when it was bought."""
    kind: ItemKind
    quantity: int
    status: EntitlementStatus
    purchased_at: datetime
    show_starts_at: datetime | None
    """Livestreams: when the show starts (the catalog's current time); otherwise None."""


def entitlement_status(purchase: Purchase) -> EntitlementStatus | None:
    """The status every line of ``purchase`` has, or None when it entitles to nothing."""
    if purchase.status is not PurchaseStatus.SUCCEEDED:
        return None
    dispute = purchase.dispute
    if dispute is None:
        return EntitlementStatus.ACTIVE
    if dispute.status is DisputeStatus.LOST:
        return None
    return EntitlementStatus.SUSPENDED if dispute.open else EntitlementStatus.ACTIVE


def entitlements_of(purchase: Purchase, catalog: Mapping[str, CatalogItem]) -> list[Entitlement]:
    """The entitlements of one purchase, in the order of its lines."""
    status = entitlement_status(purchase)
    if status is None:
        return []
    found: list[Entitlement] = []
    for line in purchase.items:
        item = catalog.get(line.item_id)
        if item is None:
            continue
        found.append(
            Entitlement(
                transaction_id=purchase.transaction_id,
                item_id=line.item_id,
                name=line.name,
                kind=item.kind,
                quantity=line.quantity,
                status=status,
                purchased_at=purchase.created_at,
                show_starts_at=item.show_starts_at if item.kind is ItemKind.LIVESTREAM else None,
            )
        )
    return found


def entitlements(
    purchases: Iterable[Purchase], catalog: Mapping[str, CatalogItem]
) -> list[Entitlement]:
    """Every entitlement of ``purchases``, in their order."""
    return [e for p in purchases for e in entitlements_of(p, catalog)]
