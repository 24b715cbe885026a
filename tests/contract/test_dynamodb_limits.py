"""The per-user Stripe-writing counter on DynamoDB (moto and Amazon's DynamoDB Local): at most
the limit per user and window, even when many Lambdas count at once; a new window starts anew;
the item expires (TTL) after its window."""

from __future__ import annotations

import pytest

from couchpay.adapters import dynamodb_tables as tables
from couchpay.adapters.dynamodb_limits import KEEP_SECONDS, stripe_write_taker
from couchpay.adapters.dynamodb_store import DynamoDbStore
from tests.contract.store_contract import at_once


@pytest.fixture(params=["dynamodb-moto", "dynamodb-local"])
def store(request: pytest.FixtureRequest) -> DynamoDbStore:
    server = request.getfixturevalue(request.param.replace("-", "_", 1))
    opened: DynamoDbStore = server.fresh_store()
    return opened


def test_concurrent_takes_never_pass_the_limit(store: DynamoDbStore) -> None:
    now = [1_000_000.0]
    take = stripe_write_taker(store, 3, clock=lambda: now[0])
    assert sorted(at_once(8, lambda _: take("fan"))) == [False] * 5 + [True] * 3
    assert take("someone-else")
    now[0] += 60
    assert [take("fan") for _ in range(4)] == [True, True, True, False]
    item = store._get(tables.GUARDS, {"guard": "rate#stripe-writes#fan#16667"})
    assert item is not None and item["n"] == 3
    assert item["expires_at"] == 16668 * 60 + KEEP_SECONDS
