"""Rate limit, log scrubbing, and the total bound: the pieces of hostile-input defence."""

from __future__ import annotations

import json
import logging

from couchpay.domain.catalog import CatalogItem, ItemKind
from couchpay.logs import JsonFormatter, scrub
from couchpay.ratelimit import TokenBucket, parse_limit
from couchpay.service.context import Services
from tests.unit.conftest import Call
from tests.unit.fakes import FakeGateway, MemoryStore
from tests.unit.test_handlers import save


def test_token_bucket_allows_bursts_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5  # one more token
    assert [bucket.take(), bucket.take()] == [True, False]
    assert parse_limit("20/40") == (20, 40) and parse_limit("5") == (5, 5)


def test_secrets_are_scrubbed_from_log_lines() -> None:
    secrets = [
        "sk_test_51Habc123XYZ",
        "rk_live_abcDEF",
        "whsec_0123456789abcdef",
        "pi_3Kabc_secret_XYZ123",
        "seti_1Nq_secret_abc",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
    ]
    line = scrub("GET /ws?token=abc.def&x=1 " + " ".join(secrets))
    assert not any(s in line for s in [*secrets, "abc.def"])
    assert "pi_3Kabc" not in line and line.count("[redacted]") == len(secrets) + 1
    record = logging.LogRecord("x", logging.INFO, "f", 1, "key %s", ("sk_live_zzz",), None)
    record.extra_field = "whsec_abc"
    out = json.loads(JsonFormatter().format(record))
    assert out["message"] == "key [redacted]" and out["extra_field"] == "[redacted]"


def test_a_total_over_stripes_maximum_is_refused_before_stripe(
    svc: Services, call: Call, gateway: FakeGateway, store: MemoryStore
) -> None:
    store.put_item(CatalogItem("gold", "Gold record", ItemKind.MERCH, 99_000_000))
    card_id = save(call, gateway)
    reply = call(
        "purchase-request",
        {"cardId": card_id, "items": [{"item_id": "gold", "price_cents": 99_000_000}]},
    )
    assert reply["message"]["code"] == "amount_too_large"
    assert store.purchases == {} and "pay" not in gateway.calls
