"""Domain records <-> DynamoDB items: ``ports.records`` plain values plus the keys DynamoDB's
indexes need.

Items are plain Python values here (``str``, ``int``, ``bool``, lists, dicts); ``wire`` and
``unwire`` convert to and from DynamoDB's typed JSON. Attributes are the dataclass fields, as
``ports.records`` maps them (no field is listed here by hand), and a ``None`` field is left out
of the item (GSI keys must be absent, not null). The index keys added here: sort keys that must be
unique join a time and an id (``created_key = created_at#id``), the catalog's one partition, and
the sparse ``unsettled_status`` of purchases still waiting for an outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from couchpay.domain.cards import Card
from couchpay.domain.catalog import CatalogItem
from couchpay.domain.purchases import Purchase
from couchpay.domain.refunds import Refund
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.records import from_plain, to_plain
from couchpay.ports.store import SETTLED_FIELDS
from couchpay.ports.stored_keys import dt_out

Item = dict[str, Any]
R = TypeVar("R")
CATALOG_PARTITION = "items"
HOLDS_PARTITION = "holds"
"""Held units live beside the catalog, one item per limited item: ``{catalog: "holds", item_id,
held}``; the operator's catalog writes never touch them."""


def holds_key(item_id: str) -> Item:
    return {"catalog": HOLDS_PARTITION, "item_id": item_id}


def sort_key(at: datetime, record_id: str) -> str:
    return f"{dt_out(at)}#{record_id}"


def _present(item: Item) -> Item:
    return {k: v for k, v in item.items() if v is not None}


# DynamoDB typed JSON ------------------------------------------------------------------------
def wire(item: Item) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in item.items()}


def unwire(item: dict[str, Any]) -> Item:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}


# records -> items --------------------------------------------------------------------------
def card_item(card: Card) -> Item:
    return _present({**to_plain(card), "created_key": sort_key(card.created_at, card.card_id)})


def item_item(item: CatalogItem) -> Item:
    return {**to_plain(item), "catalog": CATALOG_PARTITION}


def unsettled_status(status: PurchaseStatus) -> str | None:
    """The sparse ``unsettled`` index holds only records still waiting for an outcome."""
    return None if PurchaseStatus(status).settled else PurchaseStatus(status).value


DISPUTED_PARTITION = "disputed"
"""The sparse ``disputed`` index's one partition: disputes are a fraction of a percent of
charges, far from a partition's write limit."""


def _purchase_index_keys(purchase: Purchase) -> Item:
    return {
        "unsettled_status": unsettled_status(purchase.status),
        "disputed_key": DISPUTED_PARTITION if purchase.dispute is not None else None,
        "updated_key": sort_key(purchase.updated_at, purchase.transaction_id),
    }


def settled_fields(purchase: Purchase) -> Item:
    """What ``settle_purchase`` may change (the port's SETTLED_FIELDS, and the index keys that
    follow from them): value or None (None is removed)."""
    plain = to_plain(purchase)
    return {**{k: plain[k] for k in SETTLED_FIELDS}, **_purchase_index_keys(purchase)}


def purchase_item(purchase: Purchase) -> Item:
    return _present(
        {
            **to_plain(purchase),
            "created_key": sort_key(purchase.created_at, purchase.transaction_id),
            **_purchase_index_keys(purchase),
        }
    )


def refund_item(refund: Refund) -> Item:
    return _present(
        {**to_plain(refund), "created_key": sort_key(refund.created_at, refund.refund_key)}
    )


def record(record_type: type[R], item: Item) -> R:
    """The record stored as ``item`` (index keys are ignored)."""
    return from_plain(record_type, item)
