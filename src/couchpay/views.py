"""Domain records -> the JSON the page reads. Only what the page needs; never a secret."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

from couchpay.domain.cards import Card
from couchpay.domain.catalog import CatalogItem
from couchpay.domain.purchases import Purchase
from couchpay.domain.shipping import ShippingAddress


def item_view(item: CatalogItem) -> dict[str, Any]:
    return {
        "itemId": item.item_id,
        "name": item.name,
        "kind": item.kind.value,
        "priceCents": item.price_cents,
        "shippingCents": item.shipping_cents,
        "description": item.description,
        "showStartsAt": item.show_starts_at.isoformat() if item.show_starts_at else None,
    }


def catalog_view(items: list[CatalogItem], currency: str, rate: Fraction) -> dict[str, Any]:
    """The items on sale, and what the page needs to show the same total we will charge."""
    return {
        "items": [item_view(i) for i in items],
        "currency": currency,
        "streamingRate": {"numerator": rate.numerator, "denominator": rate.denominator},
    }


def card_view(card: Card, now: datetime, default_card_id: str | None = None) -> dict[str, Any]:
    return {
        "id": card.card_id,
        "lastFour": card.last_four,
        "brand": card.brand,
        "expMonth": card.exp_month,
        "expYear": card.exp_year,
        "nameOnCard": card.name_on_card,
        "status": card.effective_status(now).value,
        "isDefault": card.card_id == default_card_id,
    }


def totals_view(p: Purchase) -> dict[str, Any]:
    return {
        "transactionId": p.transaction_id,
        "status": p.status.value,
        "totalCents": p.total_cents,
        "subtotalCents": p.subtotal_cents,
        "streamingCostCents": p.streaming_cost_cents,
        "shippingCents": p.shipping_cents,
        "currency": p.currency,
        "card": {"brand": p.card_brand, "lastFour": p.card_last_four},
    }


def purchase_view(p: Purchase) -> dict[str, Any]:
    return {
        **totals_view(p),
        "requestId": p.request_id,
        "createdAt": p.created_at.isoformat(),
        "updatedAt": p.updated_at.isoformat(),
        "items": [
            {
                "itemId": line.item_id,
                "name": line.name,
                "unitPriceCents": line.unit_price_cents,
                "quantity": line.quantity,
                "shippingCents": line.shipping_cents,
            }
            for line in p.items
        ],
        "failureCode": p.failure_code,
        "failureMessage": p.failure_message,
        "refundedCents": p.refunded_cents,
        "shippingAddress": address_view(p.shipping_address),
        "receiptEmail": p.receipt_email,
    }


def address_view(address: ShippingAddress | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "name": address.name,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "state": address.state,
        "postalCode": address.postal_code,
        "country": address.country,
    }
