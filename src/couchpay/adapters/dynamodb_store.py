"""The Store port on DynamoDB (the AWS deployment; DynamoDB Local or moto in tests).

Every rule the port states is a conditional write, so it holds across Lambda instances:
claims are ``attribute_not_exists`` puts (a purchase and its ``(user, requestId)`` claim go in
one transaction), settling is ``#status = :expected``, a user's Stripe customer is set once with
``if_not_exists``. Reads that decide something are strongly consistent base-table reads; indexes
(eventually consistent) serve only look-ups that tolerate lag: history pages, webhook and
operator look-ups. Nothing scans. The plumbing (settings, client, primitives) is in
``dynamodb_client``; the rules shared with every store are in the ``Store`` port.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from couchpay.adapters import dynamodb_card_guard as guard
from couchpay.adapters import dynamodb_rows as rows
from couchpay.adapters import dynamodb_tables as tables
from couchpay.adapters.dynamodb_client import (
    DynamoDbSettings,
    DynamoDbStoreError,
    _code,
    _reasons,
    create_missing_tables,
    make_client,
)
from couchpay.adapters.dynamodb_outbox import event_conflict
from couchpay.adapters.dynamodb_purchases import DynamoDbPurchases
from couchpay.domain.cards import Card, User
from couchpay.domain.catalog import CatalogItem
from couchpay.domain.errors import NotFound
from couchpay.domain.events import OutboxEvent
from couchpay.domain.refunds import Refund
from couchpay.domain.statuses import CardStatus, PurchaseStatus
from couchpay.ports import stored_keys as stored
from couchpay.ports.outbox import OutboxConflict
from couchpay.ports.store import LiveCardExists, Store

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

_P = PurchaseStatus
__all__ = ["DynamoDbSettings", "DynamoDbStore", "create_missing_tables", "make_client"]


class DynamoDbStore(DynamoDbPurchases, Store):
    @classmethod
    def from_url(cls, url: str) -> DynamoDbStore:
        return cls(DynamoDbSettings.from_url(url))

    # users ---------------------------------------------------------------------------------
    def get_user(self, user_id: str) -> User | None:
        found = self._get(tables.USERS, {"user_id": user_id})
        return rows.record(User, found) if found is not None else None

    def _create_user(self, user_id: str, now: datetime) -> User:
        found = self._call(
            "update_item",
            TableName=self.name(tables.USERS),
            Key=rows.wire({"user_id": user_id}),
            UpdateExpression="SET created_at = if_not_exists(created_at, :now)",
            ExpressionAttributeValues=rows.wire({":now": stored.dt_out(now)}),
            ReturnValues="ALL_NEW",
        )
        return rows.record(User, rows.unwire(found["Attributes"]))

    def set_stripe_customer(self, user_id: str, customer_id: str) -> User:
        found = self._conditional(
            "update_item",
            TableName=self.name(tables.USERS),
            Key=rows.wire({"user_id": user_id}),
            UpdateExpression="SET stripe_customer_id = if_not_exists(stripe_customer_id, :c)",
            ConditionExpression="attribute_exists(user_id)",
            ExpressionAttributeValues=rows.wire({":c": customer_id}),
            ReturnValues="ALL_NEW",
        )
        if found is None:
            raise NotFound(f"no user {user_id}")
        return rows.record(User, rows.unwire(found["Attributes"]))

    def set_default_card(self, user_id: str, card_id: str | None) -> None:
        kwargs: dict[str, Any] = {
            "TableName": self.name(tables.USERS),
            "Key": rows.wire({"user_id": user_id}),
            "ConditionExpression": "attribute_exists(user_id)",
        }
        if card_id is None:
            kwargs["UpdateExpression"] = "REMOVE default_card_id"
        else:
            kwargs["UpdateExpression"] = "SET default_card_id = :c"
            kwargs["ExpressionAttributeValues"] = rows.wire({":c": card_id})
        if self._conditional("update_item", **kwargs) is None:
            raise NotFound(f"no user {user_id}")

    # cards ---------------------------------------------------------------------------------
    def _add_card(self, card: Card, events: list[OutboxEvent]) -> None:
        """The card, its id in the owner's ``card_ids`` (the wallet's consistent index), its
        fingerprint's guard when live, and its events: one transaction."""
        from botocore.exceptions import ClientError

        items: list[Any] = [
            self._put_op(tables.CARDS, rows.card_item(card), "attribute_not_exists(card_id)"),
            {
                "Update": {
                    "TableName": self.name(tables.USERS),
                    "Key": rows.wire({"user_id": card.user_id}),
                    "UpdateExpression": "ADD card_ids :ids",
                    "ConditionExpression": "attribute_exists(user_id)",
                    "ExpressionAttributeValues": rows.wire({":ids": {card.card_id}}),
                }
            },
        ]
        if guard.is_live(card):
            items.append(guard.claim_item(self, card))
        first_event = len(items)
        items += self._event_puts(events)
        try:
            self._transact(items)
        except ClientError as exc:
            reasons = [*_reasons(exc), "None", "None", "None"]
            if first_event == 3 and reasons[2] == "ConditionalCheckFailed":
                self._add_card_once_more(items, card, exc)
                return
            if event_conflict(reasons, first_event, len(events)):
                raise OutboxConflict(card.card_id) from exc
            card_taken, no_user = (r == "ConditionalCheckFailed" for r in reasons[:2])
            why = "card id already stored" if card_taken else "no such user" if no_user else ""
            raise DynamoDbStoreError(f"add_card {card.card_id}: {why or _code(exc)}") from exc

    def _add_card_once_more(self, items: list[Any], card: Card, exc: ClientError) -> None:
        """The fingerprint's guard is held: by a live card (LiveCardExists), or stale."""
        from botocore.exceptions import ClientError

        if guard.release_if_stale(self, card):
            try:
                self._transact(items)
                return
            except ClientError:
                pass
        raise LiveCardExists(guard.holder(self, card)) from exc

    def get_card(self, card_id: str) -> Card | None:
        item = self._get(tables.CARDS, {"card_id": card_id})
        return rows.record(Card, item) if item is not None else None

    def _update_card(self, card: Card, events: list[OutboxEvent]) -> None:
        if events:
            self._update_card_with_events(card, events)
        elif not self._put(tables.CARDS, rows.card_item(card), "attribute_exists(card_id)"):
            raise NotFound(f"no card {card.card_id}")
        guard.after_update(self, card)

    def _update_card_with_events(self, card: Card, events: list[OutboxEvent]) -> None:
        from botocore.exceptions import ClientError

        put = self._put_op(tables.CARDS, rows.card_item(card), "attribute_exists(card_id)")
        try:
            self._transact([put, *self._event_puts(events)])
        except ClientError as exc:
            reasons = _reasons(exc)
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise NotFound(f"no card {card.card_id}") from exc
            if event_conflict(reasons, 1, len(events)):
                raise OutboxConflict(card.card_id) from exc
            raise DynamoDbStoreError(f"update_card {card.card_id}: {_code(exc)}") from exc

    def list_cards(self, user_id: str) -> list[Card]:
        user = self._get(tables.USERS, {"user_id": user_id})
        ids = sorted(user.get("card_ids", set())) if user is not None else []
        found = self._batch_get(tables.CARDS, [{"card_id": i} for i in ids])
        cards = [rows.record(Card, item) for item in found]
        return sorted(
            (c for c in cards if c.user_id == user_id), key=lambda c: (c.created_at, c.card_id)
        )

    def find_cards_by_token(self, card_token: str) -> list[Card]:
        found = self._query(
            TableName=self.name(tables.CARDS),
            IndexName="by_token",
            KeyConditionExpression="card_token = :t",
            ExpressionAttributeValues=rows.wire({":t": card_token}),
        )
        return [rows.record(Card, item) for item in found]

    def cards_with_status(self, status: CardStatus) -> Iterator[Card]:
        found = self._query(
            TableName=self.name(tables.CARDS),
            IndexName="by_status",
            KeyConditionExpression="#status = :s",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=rows.wire({":s": CardStatus(status).value}),
        )
        return (rows.record(Card, item) for item in found)

    # catalog -------------------------------------------------------------------------------
    def put_item(self, item: CatalogItem) -> None:
        self._put(tables.CATALOG, rows.item_item(item))

    def get_item(self, item_id: str) -> CatalogItem | None:
        found = self._get(tables.CATALOG, {"catalog": rows.CATALOG_PARTITION, "item_id": item_id})
        return rows.record(CatalogItem, found) if found is not None else None

    def _all_items(self) -> list[CatalogItem]:
        found = self._query(
            TableName=self.name(tables.CATALOG),
            KeyConditionExpression="#catalog = :c",
            ExpressionAttributeNames={"#catalog": "catalog"},  # a reserved word
            ExpressionAttributeValues=rows.wire({":c": rows.CATALOG_PARTITION}),
            ConsistentRead=True,
        )
        return [rows.record(CatalogItem, i) for i in found]

    # refunds -------------------------------------------------------------------------------
    def _insert_refund(self, refund: Refund) -> bool:
        item = rows.refund_item(refund)
        return self._put(tables.REFUNDS, item, "attribute_not_exists(refund_key)")

    def _get_refund(self, refund_key: str) -> Refund | None:
        found = self._get(tables.REFUNDS, {"refund_key": refund_key})
        return rows.record(Refund, found) if found is not None else None

    def update_refund(self, refund: Refund) -> None:
        if not self._put(tables.REFUNDS, rows.refund_item(refund), "attribute_exists(refund_key)"):
            raise NotFound(f"no refund {refund.refund_key}")

    def list_refunds(self, transaction_id: str) -> list[Refund]:
        found = self._query(
            TableName=self.name(tables.REFUNDS),
            IndexName="by_transaction",
            KeyConditionExpression="transaction_id = :t",
            ExpressionAttributeValues=rows.wire({":t": transaction_id}),
        )
        return [rows.record(Refund, item) for item in found]

    # webhooks ------------------------------------------------------------------------------
    def record_event(self, event_id: str, event_type: str, now: datetime) -> bool:
        item = {"event_id": event_id, "event_type": event_type, "received_at": stored.dt_out(now)}
        return self._put(tables.WEBHOOK_EVENTS, item, "attribute_not_exists(event_id)")
