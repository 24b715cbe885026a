"""Use case B: a purchase, exactly once per (user, requestId).

The record is claimed in our store (``pending``) before Stripe is called, and settled after.
A second copy of the same request never reaches Stripe: it reads the first one's outcome."""

from __future__ import annotations

from dataclasses import dataclass

from couchpay.domain.errors import (
    AuthenticationIncomplete,
    BadRequest,
    CardDeclined,
    GatewayUnavailable,
    NotFound,
    PaymentRejected,
    RequestIdReused,
)
from couchpay.domain.purchases import Purchase, request_hash
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.gateway import PaymentOptions
from couchpay.service import failpoints
from couchpay.service.card_saving import SAVE_CARD_KEY
from couchpay.service.checkout import (
    CartRequest,
    PaymentSource,
    build_purchase,
    check_cart,
    check_order,
    resolve_source,
)
from couchpay.service.context import Services
from couchpay.service.settlement import settle_from_intent, settle_status


@dataclass(frozen=True)
class PurchaseOutcome:
    purchase: Purchase
    client_secret: str | None = None


def purchase_request(
    svc: Services, user_id: str, request_id: str | None, cart: CartRequest
) -> PurchaseOutcome:
    if not request_id:
        raise BadRequest("purchase-request needs a requestId (it is the idempotency key).")
    digest = request_hash(
        cart.source_key,
        [(i.item_id, i.quantity, i.price_cents) for i in cart.items],
        cart.shipping_address,
    )
    existing = svc.store.get_purchase_by_request(user_id, request_id)
    if existing is not None:
        return _replay(svc, existing, digest)

    lines = check_cart(svc, cart.items)
    check_order(svc, lines, cart.shipping_address)
    source: PaymentSource = resolve_source(svc, user_id, cart)
    purchase = build_purchase(svc, user_id, request_id, digest, lines, source, cart)
    stored, ours = svc.store.claim_purchase(purchase)
    if not ours:
        return _replay(svc, stored, digest)
    failpoints.hit(svc.failpoint, "after_claim")
    outcome = _charge(svc, stored, source, save_card=cart.save_card and source.card_id is None)
    failpoints.hit(svc.failpoint, "before_reply")
    return outcome


def _charge(
    svc: Services, purchase: Purchase, source: PaymentSource, *, save_card: bool
) -> PurchaseOutcome:
    metadata = {"transaction_id": purchase.transaction_id, "user_id": purchase.user_id}
    if save_card:
        metadata[SAVE_CARD_KEY] = "true"
    try:
        intent = svc.gateway.pay(
            amount_cents=purchase.total_cents,
            currency=purchase.currency,
            customer_id=source.customer_id,
            payment_method_id=source.payment_method_id,
            metadata=metadata,
            idempotency_key=f"purchase-{purchase.transaction_id}",
            options=PaymentOptions(
                shipping=purchase.shipping_address,
                receipt_email=purchase.receipt_email,
                save_for_later=save_card,
            ),
        )
    except GatewayUnavailable:
        return PurchaseOutcome(purchase)  # outcome unknown: stays pending, settled later
    except (CardDeclined, PaymentRejected) as exc:
        failpoints.hit(svc.failpoint, "after_stripe")
        settled = settle_status(
            svc, purchase, PurchaseStatus.FAILED, exc.code, exc.message, exc.payment_intent_id
        )
        return PurchaseOutcome(settled)
    failpoints.hit(svc.failpoint, "after_stripe")
    settled = settle_from_intent(svc, purchase, intent)
    return PurchaseOutcome(settled, intent.client_secret)


def _replay(svc: Services, purchase: Purchase, digest: str) -> PurchaseOutcome:
    """Answer a repeated requestId with the first request's outcome, waiting while it runs."""
    if purchase.request_hash != digest:
        raise RequestIdReused()
    waited = 0.0
    while purchase.status is PurchaseStatus.PENDING and waited < svc.duplicate_wait_seconds:
        svc.sleep(0.05)
        waited += 0.05
        purchase = svc.store.get_purchase(purchase.transaction_id) or purchase
    return _with_secret(svc, purchase)


def _with_secret(svc: Services, purchase: Purchase) -> PurchaseOutcome:
    if purchase.status is PurchaseStatus.REQUIRES_ACTION and purchase.payment_intent_id:
        intent = svc.gateway.get_payment_intent(purchase.payment_intent_id)
        return PurchaseOutcome(purchase, intent.client_secret)
    return PurchaseOutcome(purchase)


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


def confirm_purchase(svc: Services, user_id: str, transaction_id: str) -> PurchaseOutcome:
    """After 3-D Secure on the page: re-read the PaymentIntent from Stripe and settle."""
    purchase = svc.store.get_purchase(transaction_id)
    if purchase is None or purchase.user_id != user_id:
        raise NotFound("No such purchase.")
    if purchase.status.settled or not purchase.payment_intent_id:
        return PurchaseOutcome(purchase)
    intent = svc.gateway.get_payment_intent(purchase.payment_intent_id)
    settled = settle_from_intent(svc, purchase, intent)
    if settled.status is PurchaseStatus.REQUIRES_ACTION:
        raise AuthenticationIncomplete()
    return PurchaseOutcome(settled)
