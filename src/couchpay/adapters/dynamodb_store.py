"""The Store port on DynamoDB (the AWS deployment; DynamoDB Local or moto in tests).

Every rule the port states is a conditional write, so it holds across Lambda instances:
claims are ``attribute_not_exists`` puts (a purchase and its ``(user, requestId)`` claim go in
one transaction), settling is ``#status = :expected``, a user's Stripe customer is set once with
``if_not_exists``. Reads that decide something are strongly consistent base-table reads; indexes
(eventually consistent) serve only look-ups that tolerate lag: history pages, webhook and
operator look-ups. Nothing scans. Tables are defined in ``dynamodb_tables``.

``COUCHPAY_DB=dynamodb://PREFIX[?region=R&endpoint=URL&create_tables=1]``: tables are named
``PREFIX-users`` and so on. boto3 finds credentials and region the usual way (env, profile, the
Lambda role); ``endpoint`` points it at DynamoDB Local; ``create_tables`` creates missing tables
(local use; on AWS the stack owns them). Nothing connects before the first call.
"""

from __future__ import annotations

import itertools
import random
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from couchpay.adapters import dynamodb_card_guard as guard
from couchpay.adapters import dynamodb_rows as rows
from couchpay.adapters import dynamodb_tables as tables
from couchpay.adapters import stored_keys as stored
from couchpay.domain.cards import Card, User
from couchpay.domain.catalog import CatalogItem
from couchpay.domain.errors import BadRequest, NotFound
from couchpay.domain.purchases import Purchase
from couchpay.domain.refunds import Refund
from couchpay.domain.statuses import CardStatus, PurchaseStatus
from couchpay.ports.store import LiveCardExists, Store

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_dynamodb.client import DynamoDBClient

PREFIX = re.compile(r"[A-Za-z0-9_.-]{1,200}")
CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"
BATCH_GET_MAX = 100
CLAIM_ATTEMPTS = 8


class DynamoDbStoreError(RuntimeError):
    """DynamoDB refused a request in a way the port has no answer for."""


@dataclass(frozen=True)
class DynamoDbSettings:
    prefix: str
    region: str | None = None
    endpoint_url: str | None = None
    create_tables: bool = False

    @classmethod
    def from_url(cls, url: str) -> DynamoDbSettings:
        """``dynamodb://PREFIX?region=...&endpoint=...&create_tables=1``."""
        parts = urlsplit(url)
        if parts.scheme != "dynamodb" or not PREFIX.fullmatch(parts.netloc) or parts.path:
            raise ValueError(
                f"COUCHPAY_DB: expected dynamodb://TABLE_PREFIX[?region=&endpoint=], got {url!r}"
            )
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"region", "endpoint", "create_tables"}
        if unknown:
            raise ValueError(f"COUCHPAY_DB: unknown options {sorted(unknown)}")
        return cls(
            prefix=parts.netloc,
            region=query.get("region") or None,
            endpoint_url=query.get("endpoint") or None,
            create_tables=query.get("create_tables", "") in ("1", "true", "yes"),
        )


def make_client(settings: DynamoDbSettings) -> DynamoDBClient:
    from botocore.config import Config as BotoConfig

    from couchpay.adapters import aws_session

    config = BotoConfig(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=3,
        read_timeout=10,
        max_pool_connections=32,
    )
    return aws_session.session().client(
        "dynamodb",
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        config=config,
    )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _reasons(exc: ClientError) -> list[str]:
    found: Any = exc.response.get("CancellationReasons") or []
    return [str(r.get("Code") or "None") for r in found]


class DynamoDbStore(Store):
    def __init__(
        self, settings: DynamoDbSettings | str, client: DynamoDBClient | None = None
    ) -> None:
        self.settings = (
            settings if isinstance(settings, DynamoDbSettings) else DynamoDbSettings(settings)
        )
        self._client = client
        self._owns_client = client is None
        self._lock = threading.Lock()
        self._tables_checked = False

    @classmethod
    def from_url(cls, url: str) -> DynamoDbStore:
        return cls(DynamoDbSettings.from_url(url))

    # plumbing ----------------------------------------------------------------------------
    @property
    def client(self) -> DynamoDBClient:
        if self._client is None or not self._tables_checked:
            with self._lock:
                if self._client is None:
                    self._client = make_client(self.settings)
                if not self._tables_checked:
                    if self.settings.create_tables:
                        create_missing_tables(self._client, self.settings.prefix)
                    self._tables_checked = True
        return self._client

    def name(self, table: tables.Table) -> str:
        return table.name(self.settings.prefix)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One DynamoDB call; client errors the caller does not expect become ours."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            if _code(exc) in (CONDITION_FAILED, TRANSACTION_CANCELED):
                raise
            raise DynamoDbStoreError(f"DynamoDB {operation} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise DynamoDbStoreError(f"DynamoDB {operation} failed: {exc}") from exc
        return response

    def _conditional(self, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        """A conditional write: the response, or None when the condition did not hold."""
        from botocore.exceptions import ClientError

        try:
            return self._call(operation, **kwargs)
        except ClientError as exc:
            if _code(exc) == CONDITION_FAILED:
                return None
            raise DynamoDbStoreError(f"DynamoDB {operation} failed: {_code(exc)}") from exc

    def _get(self, table: tables.Table, key: rows.Item) -> rows.Item | None:
        found = self._call(
            "get_item", TableName=self.name(table), Key=rows.wire(key), ConsistentRead=True
        )
        item = found.get("Item")
        return rows.unwire(item) if item else None

    def _put(self, table: tables.Table, item: rows.Item, condition: str | None = None) -> bool:
        kwargs: dict[str, Any] = {"TableName": self.name(table), "Item": rows.wire(item)}
        if condition is not None:
            kwargs["ConditionExpression"] = condition
        return self._conditional("put_item", **kwargs) is not None

    def _query(self, **kwargs: Any) -> Iterator[rows.Item]:
        """Every item a Query yields, page after page."""
        while True:
            page = self._call("query", **kwargs)
            yield from (rows.unwire(item) for item in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return
            kwargs["ExclusiveStartKey"] = start

    def _batch_get(self, table: tables.Table, keys: list[rows.Item]) -> list[rows.Item]:
        """Strongly consistent reads of many keys (any order; missing keys are left out)."""
        found: list[rows.Item] = []
        name = self.name(table)
        for start in range(0, len(keys), BATCH_GET_MAX):
            request: Mapping[str, Any] = {
                name: {
                    "Keys": [rows.wire(k) for k in keys[start : start + BATCH_GET_MAX]],
                    "ConsistentRead": True,
                }
            }
            for attempt in range(10):
                page = self._call("batch_get_item", RequestItems=request)
                found += [rows.unwire(i) for i in page.get("Responses", {}).get(name, [])]
                request = page.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise DynamoDbStoreError("DynamoDB batch_get_item left keys unprocessed")
        return found

    def close(self) -> None:
        """Close the client this store made (a client passed in belongs to the caller)."""
        if self._owns_client and self._client is not None:
            client, self._client = self._client, None
            client.close()

    # users ---------------------------------------------------------------------------------
    def get_user(self, user_id: str) -> User | None:
        found = self._get(tables.USERS, {"user_id": user_id})
        return rows.user_from_item(found) if found is not None else None

    def ensure_user(self, user_id: str, now: datetime) -> User:
        existing = self._get(tables.USERS, {"user_id": user_id})  # a read, in the common case
        if existing is not None:
            return rows.user_from_item(existing)
        found = self._call(
            "update_item",
            TableName=self.name(tables.USERS),
            Key=rows.wire({"user_id": user_id}),
            UpdateExpression="SET created_at = if_not_exists(created_at, :now)",
            ExpressionAttributeValues=rows.wire({":now": stored.dt_out(now)}),
            ReturnValues="ALL_NEW",
        )
        return rows.user_from_item(rows.unwire(found["Attributes"]))

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
        return rows.user_from_item(rows.unwire(found["Attributes"]))

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
    def add_card(self, card: Card) -> None:
        """The card, and its id in the owner's ``card_ids`` (the wallet's consistent index)."""
        from botocore.exceptions import ClientError

        items: list[Any] = [
            {
                "Put": {
                    "TableName": self.name(tables.CARDS),
                    "Item": rows.wire(rows.card_item(card)),
                    "ConditionExpression": "attribute_not_exists(card_id)",
                }
            },
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
        try:
            self._transact(items)
        except ClientError as exc:
            reasons = [*_reasons(exc), "None", "None", "None"]
            if reasons[2] == "ConditionalCheckFailed":
                self._add_card_once_more(items, card, exc)
                return
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
        return rows.card_from_item(item) if item is not None else None

    def update_card(self, card: Card) -> None:
        if not self._put(tables.CARDS, rows.card_item(card), "attribute_exists(card_id)"):
            raise NotFound(f"no card {card.card_id}")
        guard.after_update(self, card)

    def list_cards(self, user_id: str) -> list[Card]:
        user = self._get(tables.USERS, {"user_id": user_id})
        ids = sorted(user.get("card_ids", set())) if user is not None else []
        found = self._batch_get(tables.CARDS, [{"card_id": i} for i in ids])
        cards = [rows.card_from_item(item) for item in found]
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
        return [rows.card_from_item(item) for item in found]

    def cards_with_status(self, status: CardStatus) -> Iterator[Card]:
        found = self._query(
            TableName=self.name(tables.CARDS),
            IndexName="by_status",
            KeyConditionExpression="#status = :s",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=rows.wire({":s": CardStatus(status).value}),
        )
        return (rows.card_from_item(item) for item in found)

    # catalog -------------------------------------------------------------------------------
    def put_item(self, item: CatalogItem) -> None:
        self._put(tables.CATALOG, rows.item_item(item))

    def get_item(self, item_id: str) -> CatalogItem | None:
        found = self._get(tables.CATALOG, {"catalog": rows.CATALOG_PARTITION, "item_id": item_id})
        return rows.catalog_item_from_item(found) if found is not None else None

    def list_items(self) -> list[CatalogItem]:
        return [i for i in self.list_all_items() if i.active]

    def list_all_items(self) -> list[CatalogItem]:
        found = self._query(
            TableName=self.name(tables.CATALOG),
            KeyConditionExpression="#catalog = :c",
            ExpressionAttributeNames={"#catalog": "catalog"},  # a reserved word
            ExpressionAttributeValues=rows.wire({":c": rows.CATALOG_PARTITION}),
            ConsistentRead=True,
        )
        return sorted((rows.catalog_item_from_item(i) for i in found), key=rows.catalog_order)

    # purchases -----------------------------------------------------------------------------
    def _transact(self, items: list[Any]) -> None:
        """TransactWriteItems, retried while another transaction holds one of the items."""
        from botocore.exceptions import ClientError

        for attempt in range(CLAIM_ATTEMPTS):
            try:
                self._call("transact_write_items", TransactItems=items)
                return
            except ClientError as exc:
                reasons = _reasons(exc)
                retry = "TransactionConflict" in reasons and "ConditionalCheckFailed" not in reasons
                if not retry or attempt == CLAIM_ATTEMPTS - 1:
                    raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))

    def claim_purchase(self, purchase: Purchase) -> tuple[Purchase, bool]:
        from botocore.exceptions import ClientError

        items: list[Any] = [
            {
                "Put": {
                    "TableName": self.name(tables.PURCHASE_REQUESTS),
                    "Item": rows.wire(
                        {
                            "user_id": purchase.user_id,
                            "request_id": purchase.request_id,
                            "transaction_id": purchase.transaction_id,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(user_id)",
                }
            },
            {
                "Put": {
                    "TableName": self.name(tables.PURCHASES),
                    "Item": rows.wire(rows.purchase_item(purchase)),
                    "ConditionExpression": "attribute_not_exists(transaction_id)",
                }
            },
        ]
        try:
            self._transact(items)
        except ClientError as exc:
            reasons = _reasons(exc)
            if not reasons or reasons[0] != "ConditionalCheckFailed":
                raise DynamoDbStoreError(f"claim_purchase failed: {reasons}") from exc
            existing = self.get_purchase_by_request(purchase.user_id, purchase.request_id)
            if existing is None:  # the claim exists, so its purchase does: rows never go away
                raise DynamoDbStoreError("claim without its purchase") from exc
            return existing, False
        return purchase, True

    def get_purchase(self, transaction_id: str) -> Purchase | None:
        item = self._get(tables.PURCHASES, {"transaction_id": transaction_id})
        return rows.purchase_from_item(item) if item is not None else None

    def get_purchase_by_request(self, user_id: str, request_id: str) -> Purchase | None:
        claim = self._get(tables.PURCHASE_REQUESTS, {"user_id": user_id, "request_id": request_id})
        return self.get_purchase(claim["transaction_id"]) if claim is not None else None

    def get_purchase_by_intent(self, payment_intent_id: str) -> Purchase | None:
        keys = self._query(
            TableName=self.name(tables.PURCHASES),
            IndexName="by_intent",
            KeyConditionExpression="payment_intent_id = :p",
            ExpressionAttributeValues=rows.wire({":p": payment_intent_id}),
        )
        for key in keys:
            purchase = self.get_purchase(key["transaction_id"])
            if purchase is not None and purchase.payment_intent_id == payment_intent_id:
                return purchase
        return None

    def list_unsettled_purchases(self, updated_before: datetime, limit: int) -> list[Purchase]:
        before = stored.dt_out(updated_before)
        keys: list[rows.Item] = []
        for status in (PurchaseStatus.PENDING, PurchaseStatus.REQUIRES_ACTION):
            found = self._query(
                TableName=self.name(tables.PURCHASES),
                IndexName="unsettled",
                KeyConditionExpression="unsettled_status = :s AND updated_key < :before",
                ExpressionAttributeValues=rows.wire({":s": status.value, ":before": before}),
                Limit=max(limit, 1),
            )
            keys += itertools.islice(found, limit)
        keys.sort(key=lambda k: str(k["updated_key"]))
        wanted = [{"transaction_id": k["transaction_id"]} for k in keys[:limit]]
        fresh = [rows.purchase_from_item(i) for i in self._batch_get(tables.PURCHASES, wanted)]
        still = [
            p for p in fresh if not p.status.settled and stored.dt_out(p.updated_at) < before
        ]  # the index lags the table: trust only the consistent read
        return sorted(still, key=lambda p: (p.updated_at, p.transaction_id))

    def settle_purchase(self, purchase: Purchase, expected: PurchaseStatus) -> bool:
        fields = rows.settled_fields(purchase)
        sets = [k for k, v in fields.items() if v is not None]
        removes = [k for k, v in fields.items() if v is None]
        update = "SET " + ", ".join(f"#{k} = :{k}" for k in sets)
        if removes:
            update += " REMOVE " + ", ".join(f"#{k}" for k in removes)
        values = {f":{k}": fields[k] for k in sets}
        values[":expected"] = PurchaseStatus(expected).value
        found = self._conditional(
            "update_item",
            TableName=self.name(tables.PURCHASES),
            Key=rows.wire({"transaction_id": purchase.transaction_id}),
            UpdateExpression=update,
            ConditionExpression="attribute_exists(transaction_id) AND #status = :expected",
            ExpressionAttributeNames={f"#{k}": k for k in fields},
            ExpressionAttributeValues=rows.wire(values),
        )
        return found is not None

    def list_purchases(
        self, user_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Purchase], str | None]:
        if limit < 1:
            raise BadRequest("invalid limit")
        condition = "user_id = :u"
        values: rows.Item = {":u": user_id}
        if cursor is not None:
            created_at, transaction_id = stored.decode_cursor(cursor)
            condition += " AND created_key < :after"
            values[":after"] = f"{created_at}#{transaction_id}"
        found = self._query(
            TableName=self.name(tables.PURCHASES),
            IndexName="by_user",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=rows.wire(values),
            ScanIndexForward=False,
            Limit=limit + 1,
        )
        page = [rows.purchase_from_item(item) for item in itertools.islice(found, limit + 1)]
        if len(page) <= limit:
            return page, None
        page = page[:limit]
        return page, stored.encode_cursor(
            stored.dt_out(page[-1].created_at), page[-1].transaction_id
        )

    # refunds -------------------------------------------------------------------------------
    def claim_refund(self, refund: Refund) -> tuple[Refund, bool]:
        if self._put(tables.REFUNDS, rows.refund_item(refund), "attribute_not_exists(refund_key)"):
            return refund, True
        existing = self._get(tables.REFUNDS, {"refund_key": refund.refund_key})
        if existing is None:
            raise DynamoDbStoreError(f"refund {refund.refund_key} neither claimed nor found")
        return rows.refund_from_item(existing), False

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
        return [rows.refund_from_item(item) for item in found]

    # webhooks ------------------------------------------------------------------------------
    def record_event(self, event_id: str, event_type: str, now: datetime) -> bool:
        item = {"event_id": event_id, "event_type": event_type, "received_at": stored.dt_out(now)}
        return self._put(tables.WEBHOOK_EVENTS, item, "attribute_not_exists(event_id)")


def create_missing_tables(client: DynamoDBClient, prefix: str) -> list[str]:
    """Create the tables that do not exist yet and wait until they are active; returns their
    names. For DynamoDB Local, moto and first runs of ``couchpay serve``; on AWS the stack owns
    the tables."""
    from botocore.exceptions import ClientError

    existing: set[str] = set()
    for page in client.get_paginator("list_tables").paginate():
        existing.update(page.get("TableNames", []))
    made: list[str] = []
    for table in tables.TABLES:
        name = table.name(prefix)
        if name in existing:
            continue
        try:
            client.create_table(**tables.create_table_request(prefix, table))
        except ClientError as exc:
            if _code(exc) != "ResourceInUseException":  # created meanwhile by someone else
                raise DynamoDbStoreError(f"create table {name}: {_code(exc)}") from exc
        made.append(name)
    for name in made:
        client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    for table in tables.TABLES:
        if table.ttl_attribute is not None and table.name(prefix) in made:
            client.update_time_to_live(
                TableName=table.name(prefix),
                TimeToLiveSpecification={"AttributeName": table.ttl_attribute, "Enabled": True},
            )
    return made
