"""A long-lived DynamoDB Local (a developer's) whose tables predate an index: ``create_tables=1``
adds the missing indexes, as a migration would for SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from couchpay.adapters import dynamodb_tables as tables
from couchpay.adapters.dynamodb_store import DynamoDbSettings, DynamoDbStore, create_missing_tables
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.purchase_queries import PurchaseFilter
from tests.aws.dynamodb_local import unavailable_reason
from tests.aws.requirements import need
from tests.aws.servers import REGION, DynamoDbLocal
from tests.contract.store_contract import make_purchase


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[DynamoDbLocal]:
    need(unavailable_reason(), "DynamoDB Local")
    with DynamoDbLocal() as server:
        yield server


def test_create_tables_adds_the_status_index_to_tables_made_before_it(
    dynamodb: DynamoDbLocal,
) -> None:
    """A DynamoDB Local whose tables predate the ``by_status`` and ``disputed`` indexes (a dev's
    persistent one): ``create_tables=1`` adds them, as a migration would, and the operator's
    look-ups work."""
    prefix = dynamodb.new_prefix()
    client = dynamodb.client()
    old = replace(tables.PURCHASES, indexes=tables.PURCHASES.indexes[:-2])
    assert [i.name for i in tables.PURCHASES.indexes[-2:]] == ["by_status", "disputed"]
    client.create_table(**tables.create_table_request(prefix, old))
    client.get_waiter("table_exists").wait(TableName=old.name(prefix))
    store = DynamoDbStore(DynamoDbSettings(prefix, REGION, dynamodb.endpoint), client=client)
    create_missing_tables(client, prefix)
    assert store.claim_purchase(make_purchase())[1]
    found, _ = store.find_purchases(PurchaseFilter(status=PurchaseStatus.PENDING), 10, None)
    assert [p.transaction_id for p in found] == ["tx-1"]
    assert store.find_purchases(PurchaseFilter(disputed=True), 10, None) == ([], None)
    assert create_missing_tables(client, prefix) == []  # nothing left to add
