"""``charge.dispute.*`` webhooks: the dispute is re-read from Stripe and recorded on its purchase.

Nothing in the event is trusted but the dispute's id. The purchase is found by the dispute's
PaymentIntent (or, when its id was never stored, by our transaction id in the PaymentIntent's
metadata). The dispute is written only through ``Store.settle_purchase`` with the stored status
as the expected one, so a concurrent write wins and this call re-reads and tries again; it is
written only when the re-read dispute supersedes the stored one (``Dispute.supersedes``), so
late, repeated and out-of-order events never move a dispute backwards and a closed one stays
closed. A dispute never changes the purchase's status: what it takes away is the fan's
entitlement (``domain.entitlements``)."""

from __future__ import annotations

import logging
from dataclasses import replace

from couchpay.domain.disputes import Dispute
from couchpay.domain.purchases import Purchase
from couchpay.ports.store_errors import StoreError
from couchpay.service.context import Services

log = logging.getLogger(__name__)
DISPUTE_EVENTS = frozenset(
    {
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    }
)
ATTEMPTS = 5  # concurrent writers of one purchase: each loss means someone else moved it


def record_dispute(svc: Services, dispute_id: str, payment_intent_id: str | None = None) -> str:
    """Re-read ``dispute_id`` and record it on its purchase; returns what happened.
    ``payment_intent_id`` (an id from the event, like ``dispute_id``): when its purchase already
    holds this dispute closed, nothing could change it, and Stripe is not asked."""
    known = svc.store.get_purchase_by_intent(payment_intent_id) if payment_intent_id else None
    held = known.dispute if known is not None else None
    if held is not None and held.dispute_id == dispute_id and held.status.closed:
        return "no change"
    found = svc.gateway.get_dispute(dispute_id)
    purchase = _purchase_of(svc, found.payment_intent_id)
    if purchase is None:
        return "not ours"
    for _ in range(ATTEMPTS):
        if not found.dispute.supersedes(purchase.dispute):
            return "no change"
        dispute = replace(found.dispute, updated_at=svc.now())
        updated = replace(purchase, dispute=dispute, updated_at=svc.now())
        if svc.store.settle_purchase(
            updated, expected=purchase.status, read_at=purchase.updated_at
        ):
            _log_move(purchase, dispute)
            return f"dispute {dispute.status.value}"
        purchase = svc.store.get_purchase(purchase.transaction_id) or purchase
    # not kept as processed: the webhook answers 500 and Stripe delivers the event again
    raise StoreError(f"purchase {purchase.transaction_id} kept changing; dispute not recorded")


def _purchase_of(svc: Services, payment_intent_id: str | None) -> Purchase | None:
    if not payment_intent_id:
        return None  # a charge made without a PaymentIntent is not one of ours
    purchase = svc.store.get_purchase_by_intent(payment_intent_id)
    if purchase is not None:
        return purchase
    transaction_id = svc.gateway.get_payment_intent(payment_intent_id).metadata.get(
        "transaction_id"
    )
    return svc.store.get_purchase(transaction_id) if transaction_id else None


def _log_move(purchase: Purchase, dispute: Dispute) -> None:
    before = purchase.dispute.status.value if purchase.dispute else "none"
    log.info(
        "purchase %s dispute %s %s -> %s (%s, %d %s)",
        purchase.transaction_id,
        dispute.dispute_id,
        before,
        dispute.status.value,
        dispute.reason,
        dispute.amount_cents,
        dispute.currency,
    )
