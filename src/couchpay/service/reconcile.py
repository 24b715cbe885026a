"""`couchpay reconcile`: settle purchases that stayed open (a crash, a lost answer, a missed
webhook) from what Stripe says now. Idempotent: a second run changes nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from couchpay.domain.errors import GatewayUnavailable
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PurchaseStatus
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
) -> ReconcileSummary:
    summary = ReconcileSummary()
    for purchase in svc.store.list_unsettled_purchases(svc.now() - older_than, limit):
        summary.examined += 1
        try:
            stored, moved = _settle(svc, purchase)
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


def _settle(svc: Services, purchase: Purchase) -> tuple[Purchase, bool]:
    intent = _intent_of(svc, purchase)
    if intent is not None:
        return apply_intent(svc, purchase, intent)
    if purchase.status is not PurchaseStatus.PENDING:
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


def _intent_of(svc: Services, purchase: Purchase) -> PaymentIntentResult | None:
    if purchase.payment_intent_id:
        return svc.gateway.get_payment_intent(purchase.payment_intent_id)
    customer_id = svc.store.ensure_user(purchase.user_id, svc.now()).stripe_customer_id
    return svc.gateway.find_payment_intent(purchase.transaction_id, customer_id)
