"""Per-user limits on the Lambda side (red-team finding 5): Stripe-writing actions counted per
user and minute in DynamoDB, shared by every Lambda instance (here: the handlers on moto, with
the counter's state only in the table), and sockets per user at ``$connect``."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from couchpay.adapters.aws_connections import AwsConnections
from couchpay.entrypoints.aws_lambda import _runtime, connect, default
from tests.aws.identity import TestUserPool
from tests.aws.test_connect import connect_event
from tests.aws.test_handlers import FakeManagement, message_event, signed_in

WRITES = 3


@pytest.fixture
def api(lambda_env: str, monkeypatch: pytest.MonkeyPatch) -> FakeManagement:
    fake = FakeManagement()
    monkeypatch.setattr(AwsConnections, "management", lambda self, endpoint: fake)
    return fake


@pytest.fixture
def few_writes(monkeypatch: pytest.MonkeyPatch, lambda_env: str) -> str:
    monkeypatch.setenv("COUCHPAY_STRIPE_WRITES_PER_MINUTE", str(WRITES))
    monkeypatch.setenv("COUCHPAY_MAX_SOCKETS_PER_USER", "3")
    _runtime.reset()
    return lambda_env


def test_stripe_writes_are_counted_per_user_in_dynamodb(
    few_writes: str, api: FakeManagement, pool: TestUserPool
) -> None:
    if time.time() % 60 > 50:  # the allowance is per fixed minute: start well inside one
        time.sleep(61 - time.time() % 60)
    for i in range(3):
        signed_in(pool, "spender", f"s{i}")
    signed_in(pool, "bystander", "b0")

    def setup_intent(n: int) -> None:
        frame = json.dumps({"action": "create-setup-intent", "requestId": f"r{n}"})
        assert default.handler(message_event(f"s{n % 3}", frame), None)["statusCode"] == 200

    with ThreadPoolExecutor(4) as pool_:
        list(pool_.map(setup_intent, range(8)))
    _runtime.reset()  # a "new Lambda instance": nothing but the table remembers the count
    setup_intent(8)
    frame = json.dumps({"action": "create-setup-intent", "requestId": "b"})
    default.handler(message_event("b0", frame), None)
    replies = {reply["requestId"]: reply for _, reply in api.sent}
    spent = [replies[f"r{n}"] for n in range(9)]
    assert sum(r["action"] == "get-setup-intent" for r in spent) == WRITES
    refused = [r for r in spent if r["action"] == "create-setup-intent-resp-failure"]
    assert len(refused) == 9 - WRITES and {r["message"]["code"] for r in refused} == {
        "rate_limited"
    }
    assert replies["b"]["action"] == "get-setup-intent"


def test_connect_refuses_a_user_over_the_socket_limit(few_writes: str, pool: TestUserPool) -> None:
    for i in range(3):
        signed_in(pool, "many", f"m{i}")
    over = connect.handler(connect_event(pool.token("many"), "m3"), None)
    assert over["statusCode"] == 429
    assert connect.handler(connect_event(pool.token("other"), "o1"), None)["statusCode"] == 200


def test_frames_after_the_token_expires_are_not_signed_in(
    api: FakeManagement, pool: TestUserPool
) -> None:
    """Red-team finding 7 on AWS: the connection's identity ends with its token."""
    assert (
        connect.handler(connect_event(pool.token("brief", ttl=2), "t1"), None)["statusCode"] == 200
    )
    frame = json.dumps({"action": "get-items", "requestId": "r"})
    default.handler(message_event("t1", frame), None)
    time.sleep(3)  # the token is past its exp
    default.handler(message_event("t1", frame), None)
    [(_, before), (_, after)] = api.sent
    assert before["action"] == "get-items-resp-success"
    assert after["action"] == "error" and after["message"]["code"] == "unauthorized"
