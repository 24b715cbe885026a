"""Every DynamoDB table couchpay uses, defined once.

The same definitions create the tables in tests and for ``couchpay serve`` on DynamoDB Local
(``create_table_request``), and render the CloudFormation resources of the AWS stack
(``cloudformation``; ``python -m couchpay.adapters.dynamodb_tables > aws/dynamodb-tables.json``,
which ``aws/serverless.yml`` includes, and a test keeps in step with this file).

Every key attribute is a string. Records are never deleted (the data tables are retained when the
stack is removed); only ``connections`` rows go away, on disconnect or by TTL.

    users              user_id                       card_ids: the user's cards (a string set)
    cards              card_id                       GSIs by_token, by_status
    catalog            catalog ("items"), item_id    the whole catalog in one small partition
    purchases          transaction_id                GSIs by_user (history), by_intent,
                                                     unsettled (sparse: open purchases),
                                                     by_status (operators' look-ups)
    purchase_requests  user_id, request_id           the idempotency claim -> transaction_id
    refunds            refund_key                    GSI by_transaction
    webhook_events     event_id
    events             subject, sequence_key         the outbox (fulfillment events); GSIs by_id,
                                                     pending (sparse: undelivered), by_day;
                                                     a stream of new images drives delivery
    connections        connection_id                 GSI by_user; TTL on expires_at
    guards             guard                         uniqueness items (one live card per user
                                                     and fingerprint) and per-user rate
                                                     counters (TTL on expires_at)
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str | None = None
    projection: str = "ALL"  # ALL | KEYS_ONLY | INCLUDE
    include: tuple[str, ...] = ()

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)


@dataclass(frozen=True)
class Table:
    logical_id: str
    suffix: str
    hash_key: str
    range_key: str | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    retain: bool = True
    """Business records: kept when the stack is deleted or the table replaced."""
    stream: str | None = None
    """A DynamoDB stream of this view type (``NEW_IMAGE``) in the AWS stack."""

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    def name(self, prefix: str) -> str:
        return f"{prefix}-{self.suffix}"

    def index(self, name: str) -> Index:
        return next(i for i in self.indexes if i.name == name)


USERS = Table("UsersTable", "users", "user_id")
CARDS = Table(
    "CardsTable",
    "cards",
    "card_id",
    indexes=(
        Index("by_token", "card_token", "created_key"),
        Index("by_status", "status", "card_id"),
    ),
)
CATALOG = Table("CatalogTable", "catalog", "catalog", "item_id")
PURCHASES = Table(
    "PurchasesTable",
    "purchases",
    "transaction_id",
    indexes=(
        Index("by_user", "user_id", "created_key"),
        Index("by_intent", "payment_intent_id", None, "KEYS_ONLY"),
        Index("unsettled", "unsettled_status", "updated_key", "KEYS_ONLY"),
        Index("by_status", "status", "created_key", "KEYS_ONLY"),
        Index("disputed", "disputed_key", "created_key", "KEYS_ONLY"),
    ),
)
PURCHASE_REQUESTS = Table("PurchaseRequestsTable", "purchase-requests", "user_id", "request_id")
REFUNDS = Table(
    "RefundsTable",
    "refunds",
    "refund_key",
    indexes=(Index("by_transaction", "transaction_id", "created_key"),),
)
WEBHOOK_EVENTS = Table("WebhookEventsTable", "webhook-events", "event_id")
EVENTS = Table(
    "EventsTable",
    "events",
    "subject",
    "sequence_key",
    indexes=(
        Index("by_id", "event_id", None, "KEYS_ONLY"),
        Index("pending", "pending_shard", "due_key"),
        Index("by_day", "day", "created_key"),
    ),
    stream="NEW_IMAGE",
)
CONNECTIONS = Table(
    "ConnectionsTable",
    "connections",
    "connection_id",
    indexes=(Index("by_user", "user_id", None, "INCLUDE", ("endpoint",)),),
    ttl_attribute="expires_at",
    retain=False,
)
GUARDS = Table("GuardsTable", "guards", "guard", ttl_attribute="expires_at")

TABLES: tuple[Table, ...] = (
    USERS,
    CARDS,
    CATALOG,
    PURCHASES,
    PURCHASE_REQUESTS,
    REFUNDS,
    WEBHOOK_EVENTS,
    EVENTS,
    CONNECTIONS,
    GUARDS,
)


# boto3 ------------------------------------------------------------------------------------
def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key is not None:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def _projection(index: Index) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": index.projection}
    if index.include:
        projection["NonKeyAttributes"] = list(index.include)
    return projection


def _attributes(table: Table) -> list[dict[str, str]]:
    names = list(table.key_names)
    for index in table.indexes:
        names += [n for n in index.key_names if n not in names]
    return [{"AttributeName": n, "AttributeType": "S"} for n in names]


def create_table_request(prefix: str, table: Table) -> dict[str, Any]:
    """Keyword arguments for ``client.create_table`` (on-demand capacity)."""
    request: dict[str, Any] = {
        "TableName": table.name(prefix),
        "KeySchema": _key_schema(table.hash_key, table.range_key),
        "AttributeDefinitions": _attributes(table),
        "BillingMode": "PAY_PER_REQUEST",
    }
    if table.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": i.name,
                "KeySchema": _key_schema(i.hash_key, i.range_key),
                "Projection": _projection(i),
            }
            for i in table.indexes
        ]
    return request


# CloudFormation ----------------------------------------------------------------------------
def cloudformation(prefix: str = "${self:custom.tablePrefix}") -> dict[str, Any]:
    """The tables as CloudFormation resources (``prefix`` may be a Serverless variable)."""
    resources: dict[str, Any] = {}
    for table in TABLES:
        request = create_table_request(prefix, table)
        properties: dict[str, Any] = {
            "TableName": request["TableName"],
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": request["AttributeDefinitions"],
            "KeySchema": request["KeySchema"],
            "SSESpecification": {"SSEEnabled": True},
        }
        if "GlobalSecondaryIndexes" in request:
            properties["GlobalSecondaryIndexes"] = request["GlobalSecondaryIndexes"]
        if table.stream is not None:
            properties["StreamSpecification"] = {"StreamViewType": table.stream}
        if table.ttl_attribute is not None:
            properties["TimeToLiveSpecification"] = {
                "AttributeName": table.ttl_attribute,
                "Enabled": True,
            }
        resource: dict[str, Any] = {"Type": "AWS::DynamoDB::Table"}
        if table.retain:
            properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
            properties["DeletionProtectionEnabled"] = True
            resource["DeletionPolicy"] = "Retain"
            resource["UpdateReplacePolicy"] = "Retain"
        resource["Properties"] = properties
        resources[table.logical_id] = resource
    return {"Resources": resources}


def main() -> int:
    json.dump(cloudformation(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
