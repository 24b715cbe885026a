"""Settle purchases that stayed open (a crash, a lost answer, a missed webhook, a fan who left
3-D Secure half done) from what Stripe says now. ``couchpay reconcile`` runs it by hand;
``couchpay serve`` (and a schedule on AWS) runs it on its own, so no purchase is left without an
owner. Idempotent: a second run changes nothing.

* ``queued`` (never sent: the line that held it is gone) -> ``failed`` / ``not_charged``, by
  compare-and-set, so one a live line sends meanwhile is never failed;
* ``pending`` -> what Stripe's PaymentIntent says (found by id, or by our transaction id in its
  metadata); none at all -> ``failed`` / ``not_charged`` (the call never reached Stripe);
* ``requires_action`` for longer than ``abandon_after`` -> canceled at Stripe, then ``canceled``
  (units released).
Purchases the caller still holds (``holding``: in this process's line) are left alone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from couchpay.domain.errors import GatewayUnavailable
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PaymentIntentStatus, PurchaseStatus
from couchpay.ports.gateway import PaymentIntentResult
from couchpay.service.context import Services
from couchpay.service.settlement import apply_intent, notify_if_settled, settle_status

NOT_CHARGED = "not_charged"


@dataclass
class ReconcileSummary:
    examined: int = 0
    settled: Counter[str] = field(default_factory=Counter)
    unchanged: int = 0
    unreachable: int = 0

    def line(self) -> str:
        moved = ", ".join(f"{n} {status}" for status, n in sorted(self.settled.items()))
        return (
            f"examined {self.examined}: settled {sum(self.settled.values())}"
            f"{f' ({moved})' if moved else ''}, unchanged {self.unchanged}, "
            f"Stripe unreachable {self.unreachable}"
        )


def reconcile(
    svc: Services,
    older_than: timedelta,
    limit: int = 1000,
    step: Callable[[], None] = lambda: None,
    *,
    abandon_after: timedelta | None = None,
    holding: Callable[[str], bool] = lambda transaction_id: False,
) -> ReconcileSummary:
    summary = ReconcileSummary()
    for purchase in svc.store.list_unsettled_purchases(svc.now() - older_than, limit):
        if holding(purchase.transaction_id) or _fan_may_still_act(svc, purchase, abandon_after):
            continue
        summary.examined += 1
        try:
            stored, moved = _settle(svc, purchase, abandon_after)
        except GatewayUnavailable:
            summary.unreachable += 1
        else:
            notify_if_settled(svc, stored, moved)
            if moved:
                summary.settled[stored.status.value] += 1
            else:
                summary.unchanged += 1
        step()
    return summary


def _settle(
    svc: Services, purchase: Purchase, abandon_after: timedelta | None
) -> tuple[Purchase, bool]:
    intent = None if purchase.status is PurchaseStatus.QUEUED else _intent_of(svc, purchase)
    if intent is not None and _abandoned(svc, purchase, intent, abandon_after):
        intent = svc.gateway.cancel_payment_intent(intent.id, f"abandon-{purchase.transaction_id}")
    if intent is not None:
        return apply_intent(svc, purchase, intent)
    if purchase.status is PurchaseStatus.REQUIRES_ACTION:
        return purchase, False
    # No PaymentIntent names this transaction: the call never reached Stripe (the process died
    # before it). Nothing was charged; we never charge on our own later.
    settled = settle_status(
        svc,
        purchase,
        PurchaseStatus.FAILED,
        NOT_CHARGED,
        "The payment never reached the card network; nothing was charged. Please try again.",
    )
    return settled, settled.status is not purchase.status


def _fan_may_still_act(svc: Services, purchase: Purchase, abandon_after: timedelta | None) -> bool:
    """A 3-D Secure purchase younger than ``abandon_after``: the fan may still finish it (and its
    webhook will tell); not worth a Stripe call yet."""
    return (
        abandon_after is not None
        and purchase.status is PurchaseStatus.REQUIRES_ACTION
        and svc.now() - purchase.updated_at <= abandon_after
    )


def _abandoned(
    svc: Services, purchase: Purchase, intent: PaymentIntentResult, after: timedelta | None
) -> bool:
    """A 3-D Secure purchase the fan left for longer than ``after``: still waiting at Stripe."""
    waiting = intent.status in (
        PaymentIntentStatus.REQUIRES_ACTION,
        PaymentIntentStatus.REQUIRES_PAYMENT_METHOD,
        PaymentIntentStatus.REQUIRES_CONFIRMATION,
    )
    return (
        after is not None
        and purchase.status is PurchaseStatus.REQUIRES_ACTION
        and waiting
        and svc.now() - purchase.updated_at > after
    )


def _intent_of(svc: Services, purchase: Purchase) -> PaymentIntentResult | None:
    if purchase.payment_intent_id:
        return svc.gateway.get_payment_intent(purchase.payment_intent_id)
    customer_id = svc.store.ensure_user(purchase.user_id, svc.now()).stripe_customer_id
    return svc.gateway.find_payment_intent(purchase.transaction_id, customer_id)
