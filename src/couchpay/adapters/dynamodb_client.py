"""DynamoDB plumbing for the store and the connections registry: settings from ``COUCHPAY_DB``,
the boto3 client (made on first use, never at import), and the primitives every conditional write
is built from. Client errors that the caller does not expect become ``DynamoDbStoreError`` here,
at one boundary (``raise ... from exc``); a failed condition is an answer (None / False), not an
error. Tables are defined in ``dynamodb_tables``.

``COUCHPAY_DB=dynamodb://PREFIX[?region=R&endpoint=URL&create_tables=1]``: tables are named
``PREFIX-users`` and so on. boto3 finds credentials and region the usual way (env, profile, the
Lambda role); ``endpoint`` points it at DynamoDB Local; ``create_tables`` creates missing tables
(local use; on AWS the stack owns them).
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from couchpay.adapters import dynamodb_rows as rows
from couchpay.adapters import dynamodb_tables as tables
from couchpay.adapters.dynamodb_indexes import add_missing_indexes

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


class DynamoDbTables:
    """A prefix's tables and the primitives the store's methods are made of."""

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

    def _put_op(self, table: tables.Table, item: rows.Item, condition: str) -> dict[str, Any]:
        """One conditional Put of a TransactWriteItems request."""
        return {
            "Put": {
                "TableName": self.name(table),
                "Item": rows.wire(item),
                "ConditionExpression": condition,
            }
        }

    def _update_op(
        self,
        table: tables.Table,
        key: rows.Item,
        update: str,
        values: rows.Item,
        condition: str | None = None,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One Update of a TransactWriteItems request."""
        op: dict[str, Any] = {
            "TableName": self.name(table),
            "Key": rows.wire(key),
            "UpdateExpression": update,
            "ExpressionAttributeValues": rows.wire(values),
        }
        if condition is not None:
            op["ConditionExpression"] = condition
        if names:
            op["ExpressionAttributeNames"] = names
        return {"Update": op}

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
    add_missing_indexes(client, prefix, existing)  # tables made before an index was added
    for table in tables.TABLES:
        if table.ttl_attribute is not None and table.name(prefix) in made:
            client.update_time_to_live(
                TableName=table.name(prefix),
                TimeToLiveSpecification={"AttributeName": table.ttl_attribute, "Enabled": True},
            )
    return made
