"""Action name -> (message model, handler, failure action). The seeds' names, exactly.

Handlers call service functions only (never the store or the gateway) and return a reply model
from ``views.py``; ``protocol.py`` turns it into a frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from couchpay.domain.purchases import unpaid_reason
from couchpay.domain.statuses import PurchaseStatus
from couchpay.service import cards, exactly_once, queries
from couchpay.service.checkout import CartItem, CartRequest
from couchpay.service.context import Services
from couchpay.wire import entitlements, reply_size, views
from couchpay.wire import messages as m

Reply = tuple[str, BaseModel]
PURCHASE_FAILURE = "purchase-request-resp-failure"
QUEUED = "purchase-request-resp-queued"


@dataclass(frozen=True)
class Route:
    model: type[m.Message]
    run: Callable[[Services, str, Any, str | None], Reply]
    failure: str
    reads_only: bool = False
    """Reads the store and nothing else (no write, no Stripe): cheap enough to answer inline."""


def _get_items(svc: Services, user_id: str, msg: m.Empty, rid: str | None) -> Reply:
    pricing = svc.pricing
    items, held = queries.get_items(svc)
    return "get-items-resp-success", views.catalog_view(
        items, pricing.currency, pricing.streaming_rate, held
    )


def _create_setup_intent(svc: Services, user_id: str, msg: m.Empty, rid: str | None) -> Reply:
    secret = cards.create_setup_intent(svc, user_id)
    return "get-setup-intent", views.setup_intent_created(secret)


def _create_payment_method(
    svc: Services, user_id: str, msg: m.CreatePaymentMethod, rid: str | None
) -> Reply:
    pm_id = m.payment_method_id(msg.stripe_payment)
    if msg.setup_intent_id is not None:
        pm_id = cards.payment_method_from_setup_intent(svc, user_id, msg.setup_intent_id)
    card = cards.save_card(svc, user_id, pm_id or "")
    default_id = cards.default_card_id(svc, user_id)
    return "create-payment-method-resp-success", views.card_saved(card, svc.now(), default_id)


def _wallet(svc: Services, user_id: str, msg: m.Empty, rid: str | None) -> Reply:
    wallet, default_id = cards.wallet(svc, user_id)
    return "get-user-credit-card-resp-success", views.wallet_view(wallet, svc.now(), default_id)


def _set_default(svc: Services, user_id: str, msg: m.CardRef, rid: str | None) -> Reply:
    card = cards.set_default_card(svc, user_id, msg.card_id)
    return "set-default-card-resp-success", views.default_set(card)


def _delete(svc: Services, user_id: str, msg: m.CardRef, rid: str | None) -> Reply:
    card = cards.delete_card(svc, user_id, msg.card_id)
    return "delete-credit-card-resp-success", views.card_deleted(card)


def outcome_reply(outcome: exactly_once.PurchaseOutcome) -> Reply:
    """The reply a purchase's current state gets (also pushed when it settles later)."""
    p = outcome.purchase
    if outcome.ticket is not None:
        t = outcome.ticket
        return QUEUED, views.queued_view(p.transaction_id, t.position, t.eta_seconds)
    if p.status is PurchaseStatus.REQUIRES_ACTION:
        return "get-payment-intent", views.intent_needed(p, outcome.client_secret)
    reason = unpaid_reason(p)
    if reason is None:
        return "purchase-request-resp-success", views.succeeded_view(p)
    return PURCHASE_FAILURE, views.outcome_failure(p, *reason)


def _purchase(svc: Services, user_id: str, msg: m.PurchaseRequest, rid: str | None) -> Reply:
    cart = CartRequest(
        items=tuple(CartItem(i.item_id, i.price_cents, i.quantity) for i in msg.items),
        card_id=msg.card_id,
        payment_method_id=m.payment_method_id(msg.stripe_payment),
        save_card=msg.save_card,
        shipping_address=msg.shipping_address.to_domain() if msg.shipping_address else None,
        receipt_email=svc.caller_email,
    )
    return outcome_reply(exactly_once.purchase_request(svc, user_id, rid, cart))


def _confirm(svc: Services, user_id: str, msg: m.ConfirmPurchase, rid: str | None) -> Reply:
    return outcome_reply(exactly_once.confirm_purchase(svc, user_id, msg.transaction_id))


def _get_purchase(svc: Services, user_id: str, msg: m.GetPurchase, rid: str | None) -> Reply:
    purchase = queries.get_purchase(
        svc, user_id, transaction_id=msg.transaction_id, request_id=msg.request_id
    )
    return "get-purchase-resp-success", views.receipt_view(purchase)


def _history(svc: Services, user_id: str, msg: m.PurchaseHistory, rid: str | None) -> Reply:
    page, cursor = queries.purchase_history(
        svc,
        user_id,
        msg.limit,
        msg.cursor,
        size_of=lambda p: reply_size.size(views.body(views.purchase_view(p))),
        max_bytes=reply_size.HISTORY_PAGE_BYTES,
    )
    return "view-purchases-resp-success", views.history_view(page, cursor)


ROUTES: dict[str, Route] = {
    "get-items": Route(m.Empty, _get_items, "get-items-resp-failure", reads_only=True),
    "create-setup-intent": Route(m.Empty, _create_setup_intent, "create-setup-intent-resp-failure"),
    "create-payment-method": Route(
        m.CreatePaymentMethod, _create_payment_method, "create-payment-method-resp-error"
    ),
    "get-user-credit-card": Route(
        m.Empty, _wallet, "get-user-credit-card-resp-failure", reads_only=True
    ),
    "set-default-card": Route(m.CardRef, _set_default, "set-default-card-resp-failure"),
    "delete-credit-card": Route(m.CardRef, _delete, "delete-credit-card-resp-failure"),
    "purchase-request": Route(m.PurchaseRequest, _purchase, PURCHASE_FAILURE),
    "confirm-purchase": Route(m.ConfirmPurchase, _confirm, PURCHASE_FAILURE),
    "get-purchase": Route(
        m.GetPurchase, _get_purchase, "get-purchase-resp-failure", reads_only=True
    ),
    "get-user-purchases": Route(
        m.PurchaseHistory, _history, "view-purchases-resp-failure", reads_only=True
    ),
    "get-user-entitlements": Route(
        entitlements.GetEntitlements,
        entitlements.get_entitlements,
        entitlements.FAILURE,
        reads_only=True,
    ),
}
