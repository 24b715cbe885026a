"""Indexes added to tables that already exist, for ``create_tables=1`` (DynamoDB Local, first
runs): what a migration is to SQLite. On AWS the stack owns the tables and CloudFormation adds a
new index (one per table per stack update).

An index is created one at a time per table (DynamoDB's rule) and waited for until it is ACTIVE,
so the store never queries an index still backfilling."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from couchpay.adapters import dynamodb_tables as tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

WAIT_SECONDS = 120


def add_missing_indexes(client: DynamoDBClient, prefix: str, existing: set[str]) -> list[str]:
    """Create the indexes ``tables`` defines that the existing tables lack; return their names."""
    added: list[str] = []
    for table in tables.TABLES:
        name = table.name(prefix)
        if name not in existing or not table.indexes:
            continue
        described = client.describe_table(TableName=name)["Table"]
        have = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}
        request = tables.create_table_request(prefix, table)
        for index in request["GlobalSecondaryIndexes"]:
            if index["IndexName"] in have:
                continue
            client.update_table(
                TableName=name,
                AttributeDefinitions=request["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )
            _wait_active(client, name, index["IndexName"])
            added.append(f"{name}/{index['IndexName']}")
    return added


def _wait_active(client: DynamoDBClient, table: str, index: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = client.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])
        if any(i["IndexName"] == index and i.get("IndexStatus") == "ACTIVE" for i in found):
            return
        time.sleep(0.5)
    raise TimeoutError(f"index {index} of {table} not ACTIVE after {WAIT_SECONDS}s")
