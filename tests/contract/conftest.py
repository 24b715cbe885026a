"""Local DynamoDB servers for the store contract: started when first used, stopped after the
contract module (so no JVM idles through the rest of the run)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.aws.dynamodb_local import unavailable_reason
from tests.aws.requirements import need
from tests.aws.servers import DynamoDbLocal, Moto


@pytest.fixture(scope="module")
def dynamodb_moto() -> Iterator[Moto]:
    with Moto() as server:
        yield server


@pytest.fixture(scope="module")
def dynamodb_local() -> Iterator[DynamoDbLocal]:
    need(unavailable_reason(), "DynamoDB Local")
    with DynamoDbLocal() as server:
        yield server
