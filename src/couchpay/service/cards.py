"""Use case A and the wallet: save, list, set default, delete."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from couchpay.domain.cards import Card, CardFacts, User, past_expiry, wallet_order
from couchpay.domain.errors import (
    AuthenticationIncomplete,
    CardChecksFailed,
    CardDeclined,
    CardNotValid,
    NotFound,
    PaymentError,
)
from couchpay.domain.statuses import CardStatus
from couchpay.ports.store import LiveCardExists
from couchpay.service.context import Services
from couchpay.service.customers import ensure_customer

log = logging.getLogger(__name__)


def create_setup_intent(svc: Services, user_id: str) -> str:
    """Start the SCA-ready save: returns the SetupIntent's client secret."""
    user = svc.store.ensure_user(user_id, svc.now())
    customer_id = ensure_customer(svc, user)
    intent = svc.gateway.create_setup_intent(
        customer_id, f"seti-{uuid.uuid4()}", {"user_id": user_id}
    )
    return intent.client_secret or ""


def payment_method_from_setup_intent(svc: Services, user_id: str, setup_intent_id: str) -> str:
    user = svc.store.get_user(user_id)
    intent = svc.gateway.get_setup_intent(setup_intent_id)
    if user is None or not user.stripe_customer_id or intent.customer_id != user.stripe_customer_id:
        raise CardNotValid("This card setup does not belong to you.")
    if intent.status == "requires_action":
        raise AuthenticationIncomplete()
    if intent.status != "succeeded" or not intent.payment_method_id:
        raise CardNotValid("The card setup did not complete.")
    return intent.payment_method_id


def save_card(svc: Services, user_id: str, payment_method_id: str) -> Card:
    """Re-read the PaymentMethod at Stripe, attach it to the user's customer, store the card.

    The same card (fingerprint) already live for the user is returned, refreshed, not stored twice.
    """
    now = svc.now()
    facts = svc.gateway.get_payment_method(payment_method_id)
    check_facts(facts, svc.store.get_user(user_id), now)  # refuse before writing anything
    user = svc.store.ensure_user(user_id, now)
    customer_id = ensure_customer(svc, user)
    same = [
        c
        for c in svc.store.list_cards(user_id)
        if c.usable(now) and c.fingerprint == facts.fingerprint
    ]
    if same:
        return _refresh_duplicate(svc, same[0], facts, customer_id)
    if facts.checks_failed:
        _store_new(svc, user, facts, customer_id, CardStatus.FAIL_CHECKS)
        raise CardChecksFailed()
    try:
        facts = svc.gateway.attach_payment_method(payment_method_id, customer_id)
    except CardDeclined:
        _store_new(svc, user, facts, customer_id, CardStatus.ERROR)
        raise
    try:
        return _store_new(svc, user, facts, customer_id, CardStatus.LIVE)
    except LiveCardExists as clash:  # the same card saved at the same moment: one record
        return _lost_race(svc, user_id, facts, clash)


def _lost_race(svc: Services, user_id: str, facts: CardFacts, clash: LiveCardExists) -> Card:
    """Another save of this card won: answer with its record, and take back our attach (unless
    both saves sent the very same PaymentMethod)."""
    winner = svc.store.get_card(clash.card_id) if clash.card_id else None
    if winner is None or winner.user_id != user_id:
        raise CardNotValid("This card is being saved by another request; try again.")
    if winner.card_token != facts.payment_method_id:
        try:
            svc.gateway.detach_payment_method(facts.payment_method_id)
        except PaymentError as exc:
            log.warning("detach of duplicate %s failed: %s", facts.payment_method_id, exc.code)
    return winner


def check_facts(facts: CardFacts, user: User | None, now: datetime) -> None:
    """Refuse, before anything is written or created at Stripe, a card that is someone else's
    (attached to another customer) or past its expiry month."""
    own_customer = user.stripe_customer_id if user else None
    if facts.customer_id is not None and facts.customer_id != own_customer:
        raise CardNotValid("This card belongs to someone else.")
    if past_expiry(facts.exp_year, facts.exp_month, now):
        raise CardNotValid("This card has expired.")


def _store_new(
    svc: Services, user: User, facts: CardFacts, customer_id: str, status: CardStatus
) -> Card:
    now = svc.now()
    card = Card(
        card_id=str(uuid.uuid4()),
        user_id=user.user_id,
        stripe_customer_id=customer_id,
        card_token=facts.payment_method_id,
        fingerprint=facts.fingerprint,
        brand=facts.brand,
        last_four=facts.last_four,
        exp_month=facts.exp_month,
        exp_year=facts.exp_year,
        name_on_card=facts.name_on_card,
        created_at=now,
        updated_at=now,
        status=status,
    )
    svc.store.add_card(card)
    if status is CardStatus.LIVE and not _default_usable(svc, user):
        svc.store.set_default_card(user.user_id, card.card_id)
    return card


def _default_usable(svc: Services, user: User) -> bool:
    current = svc.store.get_card(user.default_card_id) if user.default_card_id else None
    return current is not None and current.usable(svc.now())


def _refresh_duplicate(svc: Services, existing: Card, facts: CardFacts, customer_id: str) -> Card:
    """Same fingerprint: keep one record. A new expiry means a renewed card: switch tokens."""
    if (existing.exp_month, existing.exp_year) == (facts.exp_month, facts.exp_year):
        return existing
    attached = svc.gateway.attach_payment_method(facts.payment_method_id, customer_id)
    refreshed = existing.refreshed(attached, svc.now())
    svc.store.update_card(refreshed)
    svc.gateway.detach_payment_method(existing.card_token)
    return refreshed


def default_card_id(svc: Services, user_id: str) -> str | None:
    """The user's default card id (a read: never creates the user)."""
    user = svc.store.get_user(user_id)
    return user.default_card_id if user else None


def wallet(svc: Services, user_id: str) -> tuple[list[Card], str | None]:
    """A pure read: a user who never saved a card has an empty wallet and no record."""
    user = svc.store.get_user(user_id)
    default_id = user.default_card_id if user else None
    return wallet_order(svc.store.list_cards(user_id), default_id, svc.now()), default_id


def _own_card(svc: Services, user_id: str, card_id: str) -> Card:
    card = svc.store.get_card(card_id)
    if card is None or card.user_id != user_id or not card.active:
        raise NotFound("No such card in your wallet.")
    return card


def set_default_card(svc: Services, user_id: str, card_id: str) -> Card:
    card = _own_card(svc, user_id, card_id)
    if not card.usable(svc.now()):
        raise CardNotValid()
    svc.store.set_default_card(user_id, card.card_id)
    return card


def retire_card(svc: Services, card: Card) -> Card:
    """Cancel a card record (kept, never deleted); the newest usable card becomes the default."""
    now = svc.now()
    cancelled = card.cancelled(now)
    svc.store.update_card(cancelled)
    user = svc.store.ensure_user(card.user_id, now)
    if user.default_card_id == card.card_id:
        remaining = wallet_order(svc.store.list_cards(card.user_id), None, now)
        svc.store.set_default_card(card.user_id, remaining[0].card_id if remaining else None)
    return cancelled


def delete_card(svc: Services, user_id: str, card_id: str) -> Card:
    """Soft delete: the record stays, cancelled; then the card is detached at Stripe."""
    card = _own_card(svc, user_id, card_id)
    cancelled = retire_card(svc, card)
    try:
        svc.gateway.detach_payment_method(card.card_token)
    except PaymentError as exc:  # the record is cancelled already; Stripe catches up later
        log.warning("detach of card %s failed: %s", card.card_id, exc.code)
    return cancelled
