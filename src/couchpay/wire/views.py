"""Domain records -> reply models (``replies.py``). Only what the page needs; never a secret.

Each reply shape has one source: the model in ``replies.py``, built here from records, validated
when it is built, and turned into JSON by ``body``. Nothing else writes a reply's keys."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

from pydantic import BaseModel

from couchpay.domain.cards import Card
from couchpay.domain.catalog import CatalogItem
from couchpay.domain.purchases import Purchase
from couchpay.domain.shipping import ShippingAddress
from couchpay.wire import replies as r


def body(model: BaseModel) -> dict[str, Any]:
    """A reply model as the JSON object sent in ``message`` (the wire's names)."""
    return model.model_dump(mode="json", by_alias=True)


def setup_intent_created(client_secret: str) -> r.SetupIntentCreated:
    return r.SetupIntentCreated(client_secret=client_secret)


def item_view(item: CatalogItem, held: int = 0) -> r.ItemView:
    return r.ItemView(
        item_id=item.item_id,
        name=item.name,
        kind=item.kind,
        price_cents=item.price_cents,
        shipping_cents=item.shipping_cents,
        description=item.description,
        show_starts_at=item.show_starts_at,
        remaining=item.remaining(held),
    )


def catalog_view(
    items: list[CatalogItem],
    currency: str,
    rate: Fraction,
    held: dict[str, int] | None = None,
) -> r.GetItemsSuccess:
    """The items on sale, and what the page needs to show the same total we will charge."""
    held = held or {}
    return r.GetItemsSuccess(
        items=[item_view(i, held.get(i.item_id, 0)) for i in items],
        currency=currency,
        streaming_rate=r.Rate(numerator=rate.numerator, denominator=rate.denominator),
    )


def _card_fields(card: Card, now: datetime, default_card_id: str | None) -> dict[str, Any]:
    return {
        "id": card.card_id,
        "last_four": card.last_four,
        "brand": card.brand,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "name_on_card": card.name_on_card,
        "status": card.effective_status(now),
        "is_default": card.card_id == default_card_id,
    }


def card_view(card: Card, now: datetime, default_card_id: str | None = None) -> r.CardView:
    return r.CardView(**_card_fields(card, now, default_card_id))


def card_saved(card: Card, now: datetime, default_card_id: str | None) -> r.CardSaved:
    return r.CardSaved(uuid=card.card_id, **_card_fields(card, now, default_card_id))


def wallet_view(cards: list[Card], now: datetime, default_card_id: str | None) -> r.WalletSuccess:
    return r.WalletSuccess(cards=[card_view(c, now, default_card_id) for c in cards])


def default_set(card: Card) -> r.DefaultCardSet:
    return r.DefaultCardSet(id=card.card_id, is_default=True)


def card_deleted(card: Card) -> r.CardDeleted:
    return r.CardDeleted.model_validate(
        {"id": card.card_id, "active": card.active, "status": card.status}
    )


def _totals(p: Purchase) -> dict[str, Any]:
    return {
        "transaction_id": p.transaction_id,
        "status": p.status,
        "total_cents": p.total_cents,
        "subtotal_cents": p.subtotal_cents,
        "streaming_cost_cents": p.streaming_cost_cents,
        "shipping_cents": p.shipping_cents,
        "currency": p.currency,
        "card": r.CardSummary(brand=p.card_brand, last_four=p.card_last_four),
    }


def succeeded_view(p: Purchase) -> r.PurchaseSucceeded:
    return r.PurchaseSucceeded(**_totals(p))


def purchase_view(p: Purchase) -> r.PurchaseView:
    return r.PurchaseView(
        **_totals(p),
        request_id=p.request_id,
        created_at=p.created_at,
        updated_at=p.updated_at,
        items=[
            r.PurchasedItem(
                item_id=line.item_id,
                name=line.name,
                unit_price_cents=line.unit_price_cents,
                quantity=line.quantity,
                shipping_cents=line.shipping_cents,
            )
            for line in p.items
        ],
        failure_code=p.failure_code,
        failure_message=p.failure_message,
        refunded_cents=p.refunded_cents,
        shipping_address=address_view(p.shipping_address),
        receipt_email=p.receipt_email,
    )


def address_view(address: ShippingAddress | None) -> r.ShippingAddressView | None:
    return None if address is None else shipping_view(address)


def shipping_view(address: ShippingAddress) -> r.ShippingAddressView:
    return r.ShippingAddressView(
        name=address.name,
        line1=address.line1,
        line2=address.line2,
        city=address.city,
        state=address.state,
        postal_code=address.postal_code,
        country=address.country,
    )


def receipt_view(p: Purchase) -> r.GetPurchaseSuccess:
    return r.GetPurchaseSuccess(purchase=purchase_view(p))


def history_view(page: list[Purchase], cursor: str | None) -> r.HistorySuccess:
    return r.HistorySuccess(purchases=[purchase_view(p) for p in page], next_cursor=cursor)


def intent_needed(p: Purchase, client_secret: str | None) -> r.PaymentIntentNeeded:
    return r.PaymentIntentNeeded(
        transaction_id=p.transaction_id,
        client_secret=client_secret,
        payment_method=p.payment_method_id,
    )


def outcome_failure(p: Purchase, code: str, error: str) -> r.PurchaseOutcomeFailure:
    return r.PurchaseOutcomeFailure.model_validate(
        {"transactionId": p.transaction_id, "status": p.status, "code": code, "error": error}
    )


def failure(code: str, error: str) -> r.Failure:
    return r.Failure(code=code, error=error)


def queued_view(transaction_id: str, position: int, eta_seconds: int) -> r.PurchaseQueued:
    return r.PurchaseQueued(
        transaction_id=transaction_id, position=position, eta_seconds=eta_seconds
    )
