"""Moving a purchase forward from what Stripe says, never backwards, exactly once."""

from __future__ import annotations

from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PaymentIntentStatus, PurchaseStatus, can_move
from couchpay.ports.gateway import PaymentIntentResult
from couchpay.service.context import Services

_PI = PaymentIntentStatus
_STATUS_FOR_INTENT = {
    _PI.SUCCEEDED: PurchaseStatus.SUCCEEDED,
    _PI.REQUIRES_ACTION: PurchaseStatus.REQUIRES_ACTION,
    _PI.CANCELED: PurchaseStatus.CANCELED,
    _PI.REQUIRES_PAYMENT_METHOD: PurchaseStatus.FAILED,
}


def status_for(intent: PaymentIntentResult) -> PurchaseStatus | None:
    """Our status for a PaymentIntent; None while Stripe itself has no outcome yet."""
    return _STATUS_FOR_INTENT.get(intent.status)


def settle_from_intent(svc: Services, purchase: Purchase, intent: PaymentIntentResult) -> Purchase:
    new = status_for(intent) or purchase.status
    failed = new is PurchaseStatus.FAILED
    return _move(
        svc,
        purchase,
        purchase.settled_as(
            new,
            svc.now(),
            payment_intent_id=intent.id,
            failure_code=(intent.error_code or "payment_failed") if failed else None,
            failure_message=(intent.error_message or "The payment failed.") if failed else None,
            stripe_response=intent.summary,
        ),
    )


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
    return _move(svc, purchase, updated)


def _move(svc: Services, current: Purchase, updated: Purchase) -> Purchase:
    """Write ``updated`` if the move is legal and nobody moved the record meanwhile;
    otherwise return the record as the winner left it."""
    same = updated.status is current.status
    if not same and not can_move(current.status, updated.status):
        return current
    if svc.store.settle_purchase(updated, expected=current.status):
        return updated
    return svc.store.get_purchase(current.transaction_id) or current
