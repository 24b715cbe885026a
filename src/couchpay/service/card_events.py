"""Card events from Stripe: a card detached elsewhere, renewed by the network, or saved through
a SetupIntent whose page went away before telling us."""

from __future__ import annotations

from couchpay.domain.errors import CouchpayError
from couchpay.domain.statuses import CardStatus
from couchpay.service.card_lifecycle import apply_card_update
from couchpay.service.cards import retire_card, save_card
from couchpay.service.context import Services

_RETIRABLE = (CardStatus.LIVE, CardStatus.EXPIRED)


def detached(svc: Services, payment_method_id: str) -> str:
    cards = [
        c
        for c in svc.store.find_cards_by_token(payment_method_id)
        if c.active and c.status in _RETIRABLE
    ]
    if not cards:
        return "no card to change"
    if svc.gateway.get_payment_method(payment_method_id).customer_id is not None:
        return "still attached"  # a late event: it was attached again since
    for card in cards:
        retire_card(svc, card)
    return f"{len(cards)} card(s) cancelled"


def updated(svc: Services, payment_method_id: str) -> str:
    facts = svc.gateway.get_payment_method(payment_method_id)
    return f"{len(apply_card_update(svc, facts))} card(s) refreshed"


def setup_succeeded(svc: Services, setup_intent_id: str) -> str:
    intent = svc.gateway.get_setup_intent(setup_intent_id)
    user_id = intent.metadata.get("user_id")
    if not user_id or not intent.payment_method_id or intent.status != "succeeded":
        return "ignored"
    try:
        card = save_card(svc, user_id, intent.payment_method_id)
    except CouchpayError as exc:
        return f"card not saved: {exc.code}"
    return f"card {card.card_id} {card.status.value}"
