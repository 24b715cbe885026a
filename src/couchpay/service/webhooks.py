"""Stripe events, applied exactly once in effect.

Nothing in the payload is trusted but ids: every object is re-read from Stripe. Records only
move forward (``settlement``), so late, repeated or out-of-order events change nothing; the user
is told only by the call that actually settled a purchase. Events are processed first and then
kept, so a crash mid-way never loses one (Stripe delivers it again). A signed event of a kind we
handle but with no object id is acknowledged as ignored (a final 2xx: Stripe retries anything
else for days, and no retry could supply the id)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from couchpay.domain.statuses import PurchaseStatus
from couchpay.service import card_events, disputes
from couchpay.service.context import Services
from couchpay.service.settlement import apply_intent, notify_if_settled

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    object_id: str
    payment_intent_id: str | None = None
    transaction_id: str | None = None
    """Ours, from the object's metadata (an id like the others; nothing else is trusted)."""


PAYMENT_INTENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.requires_action",
        "payment_intent.processing",
    }
)


def handle_event(svc: Services, event: WebhookEvent) -> tuple[str, bool]:
    """Apply one event; returns (what happened, whether this was its first delivery)."""
    outcome = _apply(svc, event)
    first = svc.store.record_event(event.id, event.type, svc.now())
    log.info("webhook %s %s: %s%s", event.type, event.id, outcome, "" if first else " (again)")
    return outcome, first


ALREADY_FINAL = {
    "payment_intent.succeeded": frozenset({PurchaseStatus.SUCCEEDED, PurchaseStatus.REFUNDED}),
    "payment_intent.payment_failed": frozenset({PurchaseStatus.FAILED}),
    "payment_intent.canceled": frozenset({PurchaseStatus.CANCELED}),
}
"""Events that cannot move a purchase already in one of these statuses: not worth a Stripe call
(at showtime every purchase brings one; Stripe's rate limit is better spent on payments)."""
OBJECT_EVENTS = PAYMENT_INTENT_EVENTS | {
    "payment_method.detached",
    "payment_method.automatically_updated",
    "setup_intent.succeeded",
    *disputes.DISPUTE_EVENTS,
}


def _apply(svc: Services, event: WebhookEvent) -> str:
    if event.type in OBJECT_EVENTS and not event.object_id:
        return "ignored: no object id"  # nothing to re-read; no retry would ever change that
    if event.type in PAYMENT_INTENT_EVENTS and _in_our_line(svc, event.transaction_id):
        return "in flight here: its own call settles it"
    if event.type in ALREADY_FINAL:
        known = svc.store.get_purchase_by_intent(event.object_id)
        if known is not None and known.status in ALREADY_FINAL[event.type]:
            return "no change"
    if event.type in PAYMENT_INTENT_EVENTS:
        return settle_intent(svc, event.object_id)
    if event.type == "charge.refunded" and event.payment_intent_id:
        return settle_intent(svc, event.payment_intent_id)
    if event.type == "payment_method.detached":
        return card_events.detached(svc, event.object_id)
    if event.type == "payment_method.automatically_updated":
        return card_events.updated(svc, event.object_id)
    if event.type == "setup_intent.succeeded":
        return card_events.setup_succeeded(svc, event.object_id)
    if event.type in disputes.DISPUTE_EVENTS:
        return disputes.record_dispute(svc, event.object_id, event.payment_intent_id)
    return "ignored"


def _in_our_line(svc: Services, transaction_id: str | None) -> bool:
    """The purchase is with Stripe right now through this process's own line, whose call
    settles it and tells the fan: a re-read here would only spend Stripe's rate limit (at
    showtime, one more call per payment). Should that call end with no answer, the settlement
    pass settles it from Stripe later."""
    return (
        svc.line is not None
        and bool(transaction_id)
        and svc.line.in_flight_now(transaction_id or "")
    )


def settle_intent(svc: Services, payment_intent_id: str) -> str:
    intent = svc.gateway.get_payment_intent(payment_intent_id)
    purchase = svc.store.get_purchase_by_intent(intent.id)
    if purchase is None and intent.metadata.get("transaction_id"):
        purchase = svc.store.get_purchase(intent.metadata["transaction_id"])
    if purchase is None:
        return "not ours"
    stored, moved = apply_intent(svc, purchase, intent)
    notify_if_settled(svc, stored, moved)
    return f"purchase {stored.status.value}" if moved else "no change"
