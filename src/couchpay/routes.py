"""Action name -> (message model, handler, failure action). The seeds' names, exactly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from couchpay import messages as m
from couchpay import views
from couchpay.domain.statuses import PurchaseStatus
from couchpay.service import cards, purchases, queries
from couchpay.service.checkout import CartItem, CartRequest
from couchpay.service.context import Services

Reply = tuple[str, dict[str, Any]]
PURCHASE_FAILURE = "purchase-request-resp-failure"


@dataclass(frozen=True)
class Route:
    model: type[m.Message]
    run: Callable[[Services, str, Any, str | None], Reply]
    failure: str
    reads_only: bool = False
    """Reads the store and nothing else (no write, no Stripe): cheap enough to answer inline."""


def _get_items(svc: Services, user_id: str, msg: m.Empty, rid: str | None) -> Reply:
    pricing = svc.pricing
    return "get-items-resp-success", views.catalog_view(
        queries.get_items(svc), pricing.currency, pricing.streaming_rate
    )


def _create_setup_intent(svc: Services, user_id: str, msg: m.Empty, rid: str | None) -> Reply:
    return "get-setup-intent", {"clientSecret": cards.create_setup_intent(svc, user_id)}


def _create_payment_method(
    svc: Services, user_id: str, msg: m.CreatePaymentMethod, rid: str | None
) -> Reply:
    pm_id = m.payment_method_id(msg.stripe_payment)
    if msg.setup_intent_id is not None:
        pm_id = cards.payment_method_from_setup_intent(svc, user_id, msg.setup_intent_id)
    card = cards.save_card(svc, user_id, pm_id or "")
    default_id = svc.store.ensure_user(user_id, svc.now()).default_card_id
    view = views.card_view(card, svc.now(), default_id)
    return "create-payment-method-resp-success", {"uuid": card.card_id, **view}


def _wallet(svc: Services, user_id: str, msg: m.Empty, rid: str | None) -> Reply:
    wallet, default_id = cards.wallet(svc, user_id)
    now = svc.now()
    return "get-user-credit-card-resp-success", {
        "cards": [views.card_view(c, now, default_id) for c in wallet]
    }


def _set_default(svc: Services, user_id: str, msg: m.CardRef, rid: str | None) -> Reply:
    card = cards.set_default_card(svc, user_id, msg.card_id)
    return "set-default-card-resp-success", {"id": card.card_id, "isDefault": True}


def _delete(svc: Services, user_id: str, msg: m.CardRef, rid: str | None) -> Reply:
    card = cards.delete_card(svc, user_id, msg.card_id)
    return "delete-credit-card-resp-success", {
        "id": card.card_id,
        "active": card.active,
        "status": card.status.value,
    }


def outcome_reply(outcome: purchases.PurchaseOutcome) -> Reply:
    p = outcome.purchase
    if p.status in (PurchaseStatus.SUCCEEDED, PurchaseStatus.REFUNDED):
        return "purchase-request-resp-success", views.totals_view(p)
    if p.status is PurchaseStatus.REQUIRES_ACTION:
        return "get-payment-intent", {
            "transactionId": p.transaction_id,
            "clientSecret": outcome.client_secret,
            "paymentMethod": p.payment_method_id,
        }
    if p.status is PurchaseStatus.PENDING:
        return PURCHASE_FAILURE, {
            "transactionId": p.transaction_id,
            "status": p.status.value,
            "code": "payment_processing",
            "error": "The payment is still being processed; you will not be charged twice.",
        }
    return PURCHASE_FAILURE, {
        "transactionId": p.transaction_id,
        "status": p.status.value,
        "code": p.failure_code or "payment_failed",
        "error": p.failure_message or "The payment did not go through.",
    }


def _purchase(svc: Services, user_id: str, msg: m.PurchaseRequest, rid: str | None) -> Reply:
    cart = CartRequest(
        items=tuple(CartItem(i.item_id, i.price_cents, i.quantity) for i in msg.items),
        card_id=msg.card_id,
        payment_method_id=m.payment_method_id(msg.stripe_payment),
        save_card=msg.save_card,
        shipping_address=msg.shipping_address.to_domain() if msg.shipping_address else None,
        receipt_email=svc.caller_email,
    )
    return outcome_reply(purchases.purchase_request(svc, user_id, rid, cart))


def _confirm(svc: Services, user_id: str, msg: m.ConfirmPurchase, rid: str | None) -> Reply:
    return outcome_reply(purchases.confirm_purchase(svc, user_id, msg.transaction_id))


def _get_purchase(svc: Services, user_id: str, msg: m.GetPurchase, rid: str | None) -> Reply:
    purchase = purchases.get_purchase(
        svc, user_id, transaction_id=msg.transaction_id, request_id=msg.request_id
    )
    return "get-purchase-resp-success", {"purchase": views.purchase_view(purchase)}


def _history(svc: Services, user_id: str, msg: m.PurchaseHistory, rid: str | None) -> Reply:
    page, cursor = queries.purchase_history(svc, user_id, msg.limit, msg.cursor)
    return "view-purchases-resp-success", {
        "purchases": [views.purchase_view(p) for p in page],
        "nextCursor": cursor,
    }


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
}
