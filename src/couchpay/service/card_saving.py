"""``saveCard``: a typed-in card lands in the wallet only once its payment has succeeded.

The purchase asks Stripe to keep the card for later (``setup_future_usage``) and marks the
PaymentIntent's metadata (``SAVE_CARD_KEY``); whoever moves the purchase to ``succeeded`` (the
purchase itself, confirm-purchase after 3-D Secure, a webhook, reconcile) then saves the card,
exactly as the wallet does (service/cards.py). A declined or unauthenticated payment never
reaches this point, so its card is never saved. Saving is best effort: the payment stands even
if the card cannot be kept."""

from __future__ import annotations

import logging

from couchpay.domain.errors import CouchpayError
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.gateway import PaymentIntentResult
from couchpay.service.cards import save_card
from couchpay.service.context import Services

log = logging.getLogger(__name__)
SAVE_CARD_KEY = "save_card"


def save_card_after_payment(svc: Services, purchase: Purchase, intent: PaymentIntentResult) -> None:
    if purchase.status is not PurchaseStatus.SUCCEEDED:
        return
    if intent.metadata.get(SAVE_CARD_KEY) != "true":
        return
    pm_id = intent.payment_method_id or purchase.payment_method_id
    try:
        save_card(svc, purchase.user_id, pm_id)
    except CouchpayError as exc:
        log.warning("purchase %s: card not saved: %s", purchase.transaction_id, exc.code)
