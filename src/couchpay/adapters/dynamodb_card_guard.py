"""One live card per (user, fingerprint) on DynamoDB: a uniqueness item in the ``guards`` table.

``add_card`` of a live, active card writes, in the same transaction as the card, the item
``guard = live-card#<user>#<fingerprint>`` naming the card, on condition that no such item
exists: of any number of concurrent saves of one card, exactly one transaction succeeds and the
others learn which card holds the fingerprint (``LiveCardExists``).
``update_card`` keeps the item in step afterwards (not in the card's transaction, so it stays a
plain put): a card that stops being live releases its item (only if the item still names it);
a card that becomes live takes the item if it is free. A guard left naming a card that is no
longer live (a crash between the two writes) is taken over by the next save of that card."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from couchpay.adapters import dynamodb_rows as rows
from couchpay.adapters import dynamodb_tables as tables
from couchpay.domain.cards import Card
from couchpay.domain.statuses import CardStatus

if TYPE_CHECKING:
    from couchpay.adapters.dynamodb_store import DynamoDbStore


def is_live(card: Card) -> bool:
    return card.active and card.status is CardStatus.LIVE


def guard_key(card: Card) -> dict[str, Any]:
    return {"guard": f"live-card#{card.user_id}#{card.fingerprint}"}


def claim_item(store: DynamoDbStore, card: Card) -> dict[str, Any]:
    """The transaction item that claims the fingerprint for ``card``."""
    return {
        "Put": {
            "TableName": store.name(tables.GUARDS),
            "Item": rows.wire({**guard_key(card), "card_id": card.card_id}),
            "ConditionExpression": "attribute_not_exists(guard)",
        }
    }


def holder(store: DynamoDbStore, card: Card) -> str | None:
    """The card id the fingerprint's guard names, if any."""
    found = store._get(tables.GUARDS, guard_key(card))
    return str(found["card_id"]) if found else None


def release_if_stale(store: DynamoDbStore, card: Card) -> bool:
    """Drop the guard when the card it names is gone or no longer live; True if dropped."""
    held_by = holder(store, card)
    if held_by is None:
        return True
    current = store.get_card(held_by)
    if current is not None and is_live(current):
        return False
    return _delete_if_named(store, card, held_by)


def after_update(store: DynamoDbStore, card: Card) -> None:
    """Keep the guard in step with a card that was just written by ``update_card``."""
    if not is_live(card):
        _delete_if_named(store, card, card.card_id)
        return
    store._conditional(
        "put_item",
        TableName=store.name(tables.GUARDS),
        Item=rows.wire({**guard_key(card), "card_id": card.card_id}),
        ConditionExpression="attribute_not_exists(guard) OR card_id = :c",
        ExpressionAttributeValues=rows.wire({":c": card.card_id}),
    )


def _delete_if_named(store: DynamoDbStore, card: Card, card_id: str) -> bool:
    done = store._conditional(
        "delete_item",
        TableName=store.name(tables.GUARDS),
        Key=rows.wire(guard_key(card)),
        ConditionExpression="card_id = :c",
        ExpressionAttributeValues=rows.wire({":c": card_id}),
    )
    return done is not None
