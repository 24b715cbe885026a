"""Mapping between domain records and DynamoDB items, and the history cursor.

Items are plain Python values here (``str``, ``int``, ``bool``, lists, dicts); ``wire`` and
``unwire`` convert to and from DynamoDB's typed JSON. Attributes are named as the dataclass
fields. A ``None`` field is left out of the item (GSI keys must be absent, not null). Datetimes
are fixed-width ISO-8601 UTC strings with microseconds, so text order is time order; money is
integer cents (DynamoDB numbers come back as ``Decimal`` and are turned into ``int``); the Stripe
summary is kept as a JSON string (it may hold floats, which DynamoDB numbers would not round-trip).
Sort keys that must be unique join a time and an id: ``created_key = created_at#id``.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from couchpay.adapters.stored_keys import dt_in, dt_out
from couchpay.domain.cards import Card, User
from couchpay.domain.catalog import CatalogItem, ItemKind
from couchpay.domain.purchases import Purchase, PurchaseLine
from couchpay.domain.refunds import Refund, RefundStatus
from couchpay.domain.shipping import ShippingAddress
from couchpay.domain.statuses import CardStatus, PurchaseStatus

Item = dict[str, Any]
CATALOG_PARTITION = "items"


def sort_key(at: datetime, record_id: str) -> str:
    return f"{dt_out(at)}#{record_id}"


def _present(item: Item) -> Item:
    return {k: v for k, v in item.items() if v is not None}


def _int(value: Any) -> int:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"not an integer: {value!r}")


# DynamoDB typed JSON ------------------------------------------------------------------------
def wire(item: Item) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in item.items()}


def unwire(item: dict[str, Any]) -> Item:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}


# users ----------------------------------------------------------------------------------------
def user_from_item(item: Item) -> User:
    return User(
        user_id=item["user_id"],
        created_at=dt_in(item["created_at"]),
        stripe_customer_id=item.get("stripe_customer_id"),
        default_card_id=item.get("default_card_id"),
    )


# cards ----------------------------------------------------------------------------------------
def card_item(card: Card) -> Item:
    return _present(
        {
            "card_id": card.card_id,
            "user_id": card.user_id,
            "stripe_customer_id": card.stripe_customer_id,
            "card_token": card.card_token,
            "fingerprint": card.fingerprint,
            "brand": card.brand,
            "last_four": card.last_four,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "name_on_card": card.name_on_card,
            "created_at": dt_out(card.created_at),
            "updated_at": dt_out(card.updated_at),
            "active": card.active,
            "status": CardStatus(card.status).value,
            "created_key": sort_key(card.created_at, card.card_id),
        }
    )


def card_from_item(item: Item) -> Card:
    return Card(
        card_id=item["card_id"],
        user_id=item["user_id"],
        stripe_customer_id=item["stripe_customer_id"],
        card_token=item["card_token"],
        fingerprint=item["fingerprint"],
        brand=item["brand"],
        last_four=item["last_four"],
        exp_month=_int(item["exp_month"]),
        exp_year=_int(item["exp_year"]),
        name_on_card=item.get("name_on_card"),
        created_at=dt_in(item["created_at"]),
        updated_at=dt_in(item["updated_at"]),
        active=bool(item["active"]),
        status=CardStatus(item["status"]),
    )


# catalog --------------------------------------------------------------------------------------
def item_item(item: CatalogItem) -> Item:
    return _present(
        {
            "catalog": CATALOG_PARTITION,
            "item_id": item.item_id,
            "name": item.name,
            "kind": ItemKind(item.kind).value,
            "price_cents": item.price_cents,
            "shipping_cents": item.shipping_cents,
            "active": item.active,
            "description": item.description,
            "show_starts_at": dt_out(item.show_starts_at) if item.show_starts_at else None,
        }
    )


def catalog_item_from_item(item: Item) -> CatalogItem:
    return CatalogItem(
        item_id=item["item_id"],
        name=item["name"],
        kind=ItemKind(item["kind"]),
        price_cents=_int(item["price_cents"]),
        shipping_cents=_int(item["shipping_cents"]),
        active=bool(item["active"]),
        description=item.get("description", ""),
        show_starts_at=dt_in(item["show_starts_at"]) if item.get("show_starts_at") else None,
    )


def catalog_order(item: CatalogItem) -> tuple[int, str, str]:
    return (item.price_cents, item.name, item.item_id)


# purchases ------------------------------------------------------------------------------------
def unsettled_status(status: PurchaseStatus) -> str | None:
    """The sparse ``unsettled`` index holds only records still waiting for an outcome."""
    return None if PurchaseStatus(status).settled else PurchaseStatus(status).value


def settled_fields(purchase: Purchase) -> Item:
    """What ``settle_purchase`` may change (as SQLite's SETTLE_PURCHASE): value or None."""
    return {
        "updated_at": dt_out(purchase.updated_at),
        "payment_method_id": purchase.payment_method_id,
        "payment_intent_id": purchase.payment_intent_id,
        "active": purchase.active,
        "status": PurchaseStatus(purchase.status).value,
        "failure_code": purchase.failure_code,
        "failure_message": purchase.failure_message,
        "stripe_response": json.dumps(purchase.stripe_response, separators=(",", ":")),
        "refunded_cents": purchase.refunded_cents,
        "unsettled_status": unsettled_status(purchase.status),
        "updated_key": sort_key(purchase.updated_at, purchase.transaction_id),
    }


def purchase_item(purchase: Purchase) -> Item:
    lines = [
        {
            "item_id": line.item_id,
            "name": line.name,
            "unit_price_cents": line.unit_price_cents,
            "quantity": line.quantity,
            "shipping_cents": line.shipping_cents,
        }
        for line in purchase.items
    ]
    return _present(
        {
            "transaction_id": purchase.transaction_id,
            "request_id": purchase.request_id,
            "request_hash": purchase.request_hash,
            "user_id": purchase.user_id,
            "card_id": purchase.card_id,
            "card_brand": purchase.card_brand,
            "card_last_four": purchase.card_last_four,
            "items": lines,
            "subtotal_cents": purchase.subtotal_cents,
            "streaming_cost_cents": purchase.streaming_cost_cents,
            "shipping_cents": purchase.shipping_cents,
            "total_cents": purchase.total_cents,
            "currency": purchase.currency,
            "created_at": dt_out(purchase.created_at),
            "created_key": sort_key(purchase.created_at, purchase.transaction_id),
            "shipping_address": dataclasses.asdict(purchase.shipping_address)
            if purchase.shipping_address
            else None,
            "receipt_email": purchase.receipt_email,
            **settled_fields(purchase),
        }
    )


def purchase_from_item(item: Item) -> Purchase:
    return Purchase(
        transaction_id=item["transaction_id"],
        request_id=item["request_id"],
        request_hash=item["request_hash"],
        user_id=item["user_id"],
        card_id=item.get("card_id"),
        card_brand=item["card_brand"],
        card_last_four=item["card_last_four"],
        items=tuple(
            PurchaseLine(
                item_id=line["item_id"],
                name=line["name"],
                unit_price_cents=_int(line["unit_price_cents"]),
                quantity=_int(line["quantity"]),
                shipping_cents=_int(line["shipping_cents"]),
            )
            for line in item["items"]
        ),
        subtotal_cents=_int(item["subtotal_cents"]),
        streaming_cost_cents=_int(item["streaming_cost_cents"]),
        shipping_cents=_int(item["shipping_cents"]),
        total_cents=_int(item["total_cents"]),
        currency=item["currency"],
        created_at=dt_in(item["created_at"]),
        updated_at=dt_in(item["updated_at"]),
        payment_method_id=item.get("payment_method_id", ""),
        payment_intent_id=item.get("payment_intent_id"),
        active=bool(item["active"]),
        status=PurchaseStatus(item["status"]),
        failure_code=item.get("failure_code"),
        failure_message=item.get("failure_message"),
        stripe_response=json.loads(item["stripe_response"]),
        refunded_cents=_int(item.get("refunded_cents", 0)),
        shipping_address=ShippingAddress(**item["shipping_address"])
        if item.get("shipping_address")
        else None,
        receipt_email=item.get("receipt_email"),
    )


# refunds --------------------------------------------------------------------------------------
def refund_item(refund: Refund) -> Item:
    return _present(
        {
            "refund_key": refund.refund_key,
            "transaction_id": refund.transaction_id,
            "amount_cents": refund.amount_cents,
            "created_at": dt_out(refund.created_at),
            "updated_at": dt_out(refund.updated_at),
            "status": RefundStatus(refund.status).value,
            "stripe_refund_id": refund.stripe_refund_id,
            "failure_code": refund.failure_code,
            "created_key": sort_key(refund.created_at, refund.refund_key),
        }
    )


def refund_from_item(item: Item) -> Refund:
    return Refund(
        refund_key=item["refund_key"],
        transaction_id=item["transaction_id"],
        amount_cents=_int(item["amount_cents"]),
        created_at=dt_in(item["created_at"]),
        updated_at=dt_in(item["updated_at"]),
        status=RefundStatus(item["status"]),
        stripe_refund_id=item.get("stripe_refund_id"),
        failure_code=item.get("failure_code"),
    )
