"""Use case B, exactly once: one charge per (user, requestId), whatever fails halfway.

The record is claimed in our store (``pending``, a unique ``(user, requestId)``) before Stripe is
called, and settled after. What happens when something fails mid-purchase (README, "When things
fail mid-purchase", has the long version; tests/faults proves each line):

* the same requestId twice (retry, double click, two tabs, reconnect): one claim wins and alone
  calls Stripe; every other copy gets the winner's outcome, or its place in the line while it
  waits (no copy ever waits in a worker thread); a different cart under the same requestId is
  ``request_id_reused``;
* many fans at once (showtime): the claim is ``queued``; the admission line (``admission``) sends
  purchases to Stripe at the rate Stripe accepts, in arrival order; a 429 puts the purchase back at
  the front with the same idempotency key; a wait too long is ``busy``, nothing charged;
* Stripe 5xx / 429 / reset / timeout / answer lost: retried with the same Stripe idempotency key
  ``purchase-<transactionId>``, so Stripe replays its first result instead of charging again;
* Stripe unreachable: the record stays ``pending`` and the fan hears ``payment_processing``, never
  "failed"; a webhook or reconcile settles it from Stripe's side;
* killed after the claim, before Stripe: reconcile finds no PaymentIntent and settles it
  ``failed`` / ``not_charged`` (couchpay never charges later on its own);
* killed after Stripe charged: the webhook, or reconcile (by our transaction id in the
  PaymentIntent's metadata), settles it ``succeeded``;
* confirm-purchase and the webhook together: both re-read Stripe; a conditional write lets exactly
  one move the record, and only that one tells the fan.
"""

from __future__ import annotations

from dataclasses import dataclass

from couchpay import time_budget
from couchpay.domain.errors import (
    AuthenticationIncomplete,
    BadRequest,
    Busy,
    CardDeclined,
    GatewayBusy,
    GatewayUnavailable,
    NotFound,
    PaymentRejected,
    RequestIdReused,
)
from couchpay.domain.purchases import Purchase, request_hash
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.gateway import PaymentIntentResult, PaymentOptions
from couchpay.service import failpoints
from couchpay.service.admission import Ticket, Waiting
from couchpay.service.card_saving import SAVE_CARD_KEY
from couchpay.service.checkout import (
    CartRequest,
    PaymentSource,
    build_purchase,
    check_cart,
    check_order,
    resolve_source,
    source_of,
)
from couchpay.service.context import Services
from couchpay.service.settlement import settle_from_intent, settle_status

_P = PurchaseStatus
DUPLICATE_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class PurchaseOutcome:
    purchase: Purchase
    client_secret: str | None = None
    ticket: Ticket | None = None
    """Set while the purchase waits in the line (or is with Stripe for another copy)."""


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

    checked = check_cart(svc, cart.items)
    check_order(svc, checked.lines, cart.shipping_address)
    source = resolve_source(svc, user_id, cart)
    purchase = build_purchase(svc, user_id, request_id, digest, checked.lines, source, cart)
    stored, ours = svc.store.claim_purchase(purchase, checked.capacities)
    if not ours:
        return _replay(svc, stored, digest)
    failpoints.hit(svc.failpoint, "after_claim")
    outcome = _admit(svc, stored)
    failpoints.hit(svc.failpoint, "before_reply")
    return outcome


def waiting(purchase: Purchase, joined_at: float) -> Waiting:
    return Waiting(purchase.transaction_id, purchase.user_id, purchase.request_id, joined_at)


def _admit(svc: Services, purchase: Purchase) -> PurchaseOutcome:
    """Straight to Stripe when the line is empty and the rate allows; otherwise into the line."""
    line = svc.line
    if line is None and svc.shared_line is not None:
        from couchpay.service import shared_sending  # it builds on this module

        return shared_sending.admit(svc, purchase)
    if line is None:
        try:
            return charge(svc, purchase)
        except GatewayBusy:
            return PurchaseOutcome(purchase)  # outcome known (nothing done): settled later
    if not line.try_start(purchase.transaction_id):
        try:
            ticket = line.join(waiting(purchase, svc.clock()))
        except Busy as exc:
            return PurchaseOutcome(settle_status(svc, purchase, _P.FAILED, exc.code, exc.message))
        return PurchaseOutcome(purchase, ticket=ticket)
    try:
        outcome = charge(svc, purchase)
    except GatewayBusy:
        pending = svc.store.get_purchase(purchase.transaction_id) or purchase
        line.busy_again(waiting(pending, svc.clock()))
        return PurchaseOutcome(pending, ticket=line.ticket(purchase.transaction_id))
    except BaseException:
        line.done(purchase.transaction_id)
        raise
    if line.done(purchase.transaction_id):  # a copy of this request is waiting to be told
        svc.notifier.purchase_settled(outcome.purchase, outcome.client_secret)
    return outcome


def charge(svc: Services, purchase: Purchase) -> PurchaseOutcome:
    """Send a claimed purchase to Stripe and settle it. A ``queued`` record first becomes
    ``pending`` by compare-and-set, so a purchase settlement gave up on is never sent. Raises
    GatewayBusy (Stripe's 429: nothing was done) for the caller to send it again later."""
    if purchase.status is _P.QUEUED:
        dispatched = settle_status(svc, purchase, _P.PENDING, None, None)
        if dispatched.status is not _P.PENDING:
            return PurchaseOutcome(dispatched)  # settled meanwhile (busy, not_charged)
        purchase = dispatched
    if purchase.status is not _P.PENDING or purchase.payment_intent_id:
        return _with_secret(svc, purchase)
    source = source_of(svc, purchase)
    started = svc.clock()
    try:
        intent = _pay(svc, purchase, source, started)
    except GatewayBusy:
        raise
    except GatewayUnavailable:
        return PurchaseOutcome(purchase)  # outcome unknown: stays pending, settled later
    except (CardDeclined, PaymentRejected) as exc:
        failpoints.hit(svc.failpoint, "after_stripe")
        settled = settle_status(
            svc, purchase, _P.FAILED, exc.code, exc.message, exc.payment_intent_id
        )
        return PurchaseOutcome(settled)
    failpoints.hit(svc.failpoint, "after_stripe")
    settled = settle_from_intent(svc, purchase, intent)
    return PurchaseOutcome(settled, intent.client_secret)


def _pay(
    svc: Services, purchase: Purchase, source: PaymentSource, started: float
) -> PaymentIntentResult:
    outcome = "ok"
    metadata = {"transaction_id": purchase.transaction_id, "user_id": purchase.user_id}
    if purchase.save_card:
        metadata[SAVE_CARD_KEY] = "true"  # saved to the wallet once paid (card_saving)
    try:
        return svc.gateway.pay(
            amount_cents=purchase.total_cents,
            currency=purchase.currency,
            customer_id=source.customer_id,
            payment_method_id=source.payment_method_id,
            metadata=metadata,
            idempotency_key=f"purchase-{purchase.transaction_id}",
            options=PaymentOptions(
                shipping=purchase.shipping_address,
                receipt_email=purchase.receipt_email,
                save_for_later=purchase.save_card,
            ),
        )
    except GatewayBusy:
        outcome = "rate_limited"
        raise
    except GatewayUnavailable:
        outcome = "unavailable"
        raise
    except (CardDeclined, PaymentRejected):
        outcome = "declined"
        raise
    finally:
        svc.metrics.stripe_call(svc.clock() - started, outcome)


def _replay(svc: Services, purchase: Purchase, digest: str) -> PurchaseOutcome:
    """A repeated requestId gets the first request's outcome, or its place while it is open.
    Never waits: an open purchase's outcome is pushed when it settles."""
    if purchase.request_hash != digest:
        raise RequestIdReused()
    line = svc.line
    if line is None and svc.shared_line is not None:
        from couchpay.service import shared_sending  # it builds on this module

        place = shared_sending.place_of(svc, purchase)
        if place is not None:  # queued in the shared line: its place, never a wait here
            return PurchaseOutcome(purchase, ticket=place)
    if line is None:
        return _with_secret(svc, _when_settled(svc, purchase))
    if purchase.status.settled:
        return _with_secret(svc, purchase)
    ticket = line.watch(purchase.transaction_id)
    if ticket is None and purchase.status is _P.QUEUED:
        try:  # this process does not know it (a restart): it takes its place again
            line.join(waiting(purchase, svc.clock()))
            ticket = line.watch(purchase.transaction_id)
        except Busy:
            ticket = None
    if ticket is not None:
        return PurchaseOutcome(purchase, ticket=ticket)
    latest = svc.store.get_purchase(purchase.transaction_id) or purchase  # it may have just ended
    return _with_secret(svc, latest)


def _when_settled(svc: Services, purchase: Purchase) -> Purchase:
    """With no line to tell copies later (a Lambda: each request is its own invocation), a copy
    of an open purchase waits for the first one's outcome, within the invocation's budget; after
    that it answers ``payment_processing`` and the settlement job tells the fan."""
    waited, wait_at_most = 0.0, time_budget.capped(svc.duplicate_wait_seconds)
    while not purchase.status.settled and waited < wait_at_most:
        svc.sleep(DUPLICATE_POLL_SECONDS)
        waited += DUPLICATE_POLL_SECONDS
        purchase = svc.store.get_purchase(purchase.transaction_id) or purchase
        if purchase.status is _P.REQUIRES_ACTION:
            break
    return purchase


def _with_secret(svc: Services, purchase: Purchase) -> PurchaseOutcome:
    if purchase.status is _P.REQUIRES_ACTION and purchase.payment_intent_id:
        intent = svc.gateway.get_payment_intent(purchase.payment_intent_id)
        return PurchaseOutcome(purchase, intent.client_secret)
    return PurchaseOutcome(purchase)


def confirm_purchase(svc: Services, user_id: str, transaction_id: str) -> PurchaseOutcome:
    """After 3-D Secure on the page: re-read the PaymentIntent from Stripe and settle."""
    purchase = svc.store.get_purchase(transaction_id)
    if purchase is None or purchase.user_id != user_id:
        raise NotFound("No such purchase.")
    if purchase.status.settled or not purchase.payment_intent_id:
        return PurchaseOutcome(purchase)
    intent = svc.gateway.get_payment_intent(purchase.payment_intent_id)
    settled = settle_from_intent(svc, purchase, intent)
    if settled.status is _P.REQUIRES_ACTION:
        raise AuthenticationIncomplete()
    return PurchaseOutcome(settled)
