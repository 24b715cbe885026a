"""`couchpay refund`: full or partial, idempotent per refund key.

The refund is claimed in our store under its key before Stripe is called, and Stripe gets an
idempotency key derived from it, so re-running the same command (after a crash, a timeout)
never refunds twice. To refund the same amount again on purpose, give a new ``--key``."""

from __future__ import annotations

from dataclasses import dataclass

from couchpay.domain.errors import BadRequest, CouchpayError, NotFound
from couchpay.domain.purchases import Purchase
from couchpay.domain.refunds import Refund, RefundStatus
from couchpay.domain.statuses import PurchaseStatus
from couchpay.service.context import Services
from couchpay.service.settlement import apply_intent, notify_if_settled


@dataclass(frozen=True)
class RefundOutcome:
    refund: Refund
    purchase: Purchase
    repeated: bool


def refund_purchase(
    svc: Services, transaction_id: str, amount_cents: int | None = None, key: str | None = None
) -> RefundOutcome:
    purchase = svc.store.get_purchase(transaction_id)
    if purchase is None:
        raise NotFound(f"No purchase {transaction_id}.")
    refund_key = key or f"{transaction_id}:{'full' if amount_cents is None else amount_cents}"
    now = svc.now()
    claimed, ours = svc.store.claim_refund(
        Refund(refund_key, transaction_id, _amount(purchase, amount_cents), now, now)
    )
    if not ours and claimed.status is not RefundStatus.PENDING:
        return RefundOutcome(claimed, purchase, repeated=True)
    if not ours and amount_cents is not None and claimed.amount_cents != amount_cents:
        raise BadRequest(f"Refund key {refund_key} was used for {claimed.amount_cents} cents.")
    try:
        result = svc.gateway.refund(
            purchase.payment_intent_id or "", claimed.amount_cents, f"refund-{refund_key}"
        )
    except CouchpayError as exc:
        svc.store.update_refund(claimed.settled_as(RefundStatus.FAILED, svc.now(), None, exc.code))
        raise
    done = claimed.settled_as(RefundStatus.SUCCEEDED, svc.now(), result.id)
    svc.store.update_refund(done)
    intent = svc.gateway.get_payment_intent(purchase.payment_intent_id or "")
    stored, moved = apply_intent(svc, svc.store.get_purchase(transaction_id) or purchase, intent)
    notify_if_settled(svc, stored, moved)
    return RefundOutcome(done, stored, repeated=not ours)


def _amount(purchase: Purchase, amount_cents: int | None) -> int:
    if purchase.status is not PurchaseStatus.SUCCEEDED or not purchase.payment_intent_id:
        raise BadRequest(
            f"Only a paid purchase can be refunded; {purchase.transaction_id} "
            f"is {purchase.status.value}."
        )
    refusal = purchase.dispute.refusal() if purchase.dispute is not None else None
    if refusal is not None:
        raise BadRequest(f"Purchase {purchase.transaction_id} cannot be refunded: {refusal}.")
    remaining = purchase.total_cents - purchase.refunded_cents
    amount = remaining if amount_cents is None else amount_cents
    if not 0 < amount <= remaining:
        raise BadRequest(f"The amount must be between 1 and {remaining} cents.")
    return amount
