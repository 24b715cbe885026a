"""Moving a purchase forward from what Stripe says, never backwards, exactly once."""

from __future__ import annotations

import logging
from dataclasses import replace

from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PaymentIntentStatus, PurchaseStatus, can_move
from couchpay.ports.gateway import PaymentIntentResult
from couchpay.service.card_saving import save_card_after_payment
from couchpay.service.context import Services

log = logging.getLogger(__name__)
_PI = PaymentIntentStatus
_STATUS_FOR_INTENT = {
    _PI.SUCCEEDED: PurchaseStatus.SUCCEEDED,
    _PI.REQUIRES_ACTION: PurchaseStatus.REQUIRES_ACTION,
    _PI.CANCELED: PurchaseStatus.CANCELED,
    _PI.REQUIRES_PAYMENT_METHOD: PurchaseStatus.FAILED,
}


def status_for(intent: PaymentIntentResult, total_cents: int) -> PurchaseStatus | None:
    """Our status for a PaymentIntent; None while Stripe itself has no outcome yet."""
    status = _STATUS_FOR_INTENT.get(intent.status)
    if status is PurchaseStatus.SUCCEEDED and intent.amount_refunded >= total_cents > 0:
        return PurchaseStatus.REFUNDED
    return status


def apply_intent(
    svc: Services, purchase: Purchase, intent: PaymentIntentResult
) -> tuple[Purchase, bool]:
    """Bring the record in line with the PaymentIntent. Returns the record as stored and whether
    this call moved it (only the mover tells the user)."""
    new = status_for(intent, purchase.total_cents) or purchase.status
    failed = new is PurchaseStatus.FAILED
    updated = purchase.settled_as(
        new,
        svc.now(),
        payment_intent_id=intent.id,
        failure_code=(intent.error_code or "payment_failed") if failed else None,
        failure_message=(intent.error_message or "The payment failed.") if failed else None,
        stripe_response=intent.summary,
    )
    refunded = max(purchase.refunded_cents, intent.amount_refunded)
    stored, moved = _move(svc, purchase, replace(updated, refunded_cents=refunded))
    if moved:
        save_card_after_payment(svc, stored, intent)
    return stored, moved


def settle_from_intent(svc: Services, purchase: Purchase, intent: PaymentIntentResult) -> Purchase:
    return apply_intent(svc, purchase, intent)[0]


def settle_status(
    svc: Services,
    purchase: Purchase,
    status: PurchaseStatus,
    code: str | None,
    message: str | None,
    payment_intent_id: str | None = None,
) -> Purchase:
    updated = purchase.settled_as(
        status,
        svc.now(),
        payment_intent_id=payment_intent_id,
        failure_code=code,
        failure_message=message,
    )
    return _move(svc, purchase, updated)[0]


def _move(svc: Services, current: Purchase, updated: Purchase) -> tuple[Purchase, bool]:
    """Write ``updated`` if the move is legal and nobody moved the record meanwhile;
    otherwise return the record as the winner left it."""
    same_status = updated.status is current.status
    if not same_status and not can_move(current.status, updated.status):
        return current, False
    if same_status and _unchanged(current, updated):
        return current, False
    if svc.store.settle_purchase(updated, expected=current.status, read_at=current.updated_at):
        if updated.status.settled and not same_status:
            svc.metrics.purchase_settled(updated.status.value, updated.failure_code)
        if not same_status:
            log.info(
                "purchase %s moved %s -> %s",
                current.transaction_id,
                current.status.value,
                updated.status.value,
            )
        return updated, not same_status
    return svc.store.get_purchase(current.transaction_id) or current, False


def _unchanged(current: Purchase, updated: Purchase) -> bool:
    return replace(updated, updated_at=current.updated_at) == current


def notify_if_settled(svc: Services, purchase: Purchase, moved: bool) -> None:
    if moved and purchase.status.settled:
        svc.notifier.purchase_settled(purchase)
