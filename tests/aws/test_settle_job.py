"""The settlement pass on AWS (``aws_jobs.settle_purchases``, every minute): called as Lambda
calls it, on the offline DynamoDB and localstripe. A purchase a dead Lambda claimed but never
sent is settled ``not_charged`` and the fan's socket is told; the oldest open purchase's age goes
to CloudWatch as an Embedded Metric Format line (what the OldestPendingSeconds alarm watches)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from couchpay.domain.statuses import PurchaseStatus
from couchpay.entrypoints import aws_jobs
from couchpay.entrypoints.aws_lambda import _runtime
from tests.aws.identity import TestUserPool
from tests.aws.test_handlers import FakeManagement, api, signed_in  # noqa: F401 - fixture
from tests.contract.store_contract import make_purchase


def test_a_purchase_nobody_sent_is_settled_and_the_fan_told(
    api: FakeManagement,  # noqa: F811 - the fixture
    pool: TestUserPool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in(pool, "fan-settle", "c-settle")
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    orphan = make_purchase(
        "tx-orphan",
        "req-orphan",
        user_id="fan-settle",
        status=PurchaseStatus.QUEUED,
        created_at=long_ago,
        updated_at=long_ago,
    )
    store = _runtime.runtime().services.store
    store.claim_purchase(orphan)
    capsys.readouterr()

    summary = aws_jobs.settle_purchases({}, None)

    assert summary["settled"] == {"failed": 1}
    settled = store.get_purchase("tx-orphan")
    assert settled is not None and settled.failure_code == "not_charged"
    [(to, pushed)] = [(c, r) for c, r in api.sent if r["requestId"] == "req-orphan"]
    assert to == "c-settle"
    assert pushed["action"] == "purchase-request-resp-failure"
    assert pushed["message"]["code"] == "not_charged"
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    metrics: dict[str, Any] = {k: v for line in emf for k, v in line.items()}
    oldest = metrics["OldestPendingSeconds"]  # EMF gives a list when one name has many values
    assert max(oldest if isinstance(oldest, list) else [oldest]) >= 600
    names = {
        m["Name"] for line in emf for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]
    }
    assert {"OldestPendingSeconds", "OpenPurchases"} <= names
    assert aws_jobs.settle_purchases({}, None)["settled"] == {}  # a second pass: nothing more
