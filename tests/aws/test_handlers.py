"""The Lambda handlers called as Lambda calls them, on moto DynamoDB and a localstripe; replies
go to a stand-in for the API Gateway Management API (moto's never answers 410)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from couchpay.adapters.aws_connections import AwsConnections
from couchpay.entrypoints.aws_lambda import _runtime, connect, default, disconnect, webhook
from tests.aws.conftest import WEBHOOK_SECRET
from tests.aws.identity import TestUserPool
from tests.aws.servers import REGION
from tests.aws.test_connect import connect_event


class FakeManagement:
    """post_to_connection as API Gateway answers it: 410 for a connection that is gone."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.gone: set[str] = set()
        self.closed: list[str] = []

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        if ConnectionId in self.gone:
            raise ClientError(
                {"Error": {"Code": "GoneException"}, "ResponseMetadata": {"HTTPStatusCode": 410}},
                "PostToConnection",
            )
        self.sent.append((ConnectionId, json.loads(Data)))
        return {}

    def delete_connection(self, ConnectionId: str) -> dict[str, Any]:
        self.closed.append(ConnectionId)
        return {}


@pytest.fixture
def api(lambda_env: str, monkeypatch: pytest.MonkeyPatch) -> FakeManagement:
    fake = FakeManagement()
    monkeypatch.setattr(AwsConnections, "management", lambda self, endpoint: fake)
    return fake


def message_event(connection_id: str, body: Any, base64_encoded: bool = False) -> dict[str, Any]:
    return {
        "requestContext": {
            "routeKey": "$default",
            "eventType": "MESSAGE",
            "connectionId": connection_id,
            "apiId": "abc123",
            "stage": "test",
        },
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


def signed_in(pool: TestUserPool, user_id: str, connection_id: str) -> None:
    reply = connect.handler(connect_event(pool.token(user_id), connection_id), None)
    assert reply["statusCode"] == 200


def test_default_answers_through_the_connection(api: FakeManagement, pool: TestUserPool) -> None:
    signed_in(pool, "fan-1", "c1")
    frame = json.dumps({"action": "get-items", "requestId": "r-1"})
    assert default.handler(message_event("c1", frame), None) == {"statusCode": 200}
    [(to, reply)] = api.sent
    assert to == "c1"
    assert (reply["action"], reply["requestId"]) == ("get-items-resp-success", "r-1")
    assert sorted(i["priceCents"] for i in reply["message"]["items"]) == [2000, 5000, 10000]


@pytest.mark.parametrize(
    ("body", "encoded", "code"),
    [
        ("{", False, "bad_request"),
        ({"type": "Buffer", "data": [255, 254, 32, 98]}, False, "bad_request"),  # offline binary
        ({"type": "Buffer", "data": [999]}, False, "bad_request"),
        ("not base64!", True, "bad_request"),
        (None, False, "bad_request"),
        ("x" * 40000, False, "frame_too_large"),
        (base64.b64encode(b'{"action": "nope"}').decode(), True, "unknown_action"),
    ],
)
def test_default_frames_that_are_not_requests(
    api: FakeManagement, pool: TestUserPool, body: Any, encoded: bool, code: str
) -> None:
    signed_in(pool, "fan-2", "c2")
    assert default.handler(message_event("c2", body, encoded), None)["statusCode"] == 200
    [(_, reply)] = api.sent
    assert (reply["action"], reply["message"]["code"]) == ("error", code)


def test_default_takes_the_user_from_connect_never_from_the_frame(
    api: FakeManagement, pool: TestUserPool
) -> None:
    signed_in(pool, "fan-3", "c3")
    frame = json.dumps({"action": "get-user-credit-card", "message": {"userId": "someone-else"}})
    default.handler(message_event("c3", frame), None)
    default.handler(message_event("never-connected", '{"action": "get-items"}'), None)
    [(_, mismatch), (to, unknown)] = api.sent
    assert mismatch["message"]["code"] == "unauthorized"
    assert (to, unknown["action"], unknown["message"]["code"]) == (
        "never-connected",
        "error",
        "unauthorized",
    )


def test_a_gone_connection_is_dropped(lambda_env: str, pool: TestUserPool) -> None:
    """The real Management API client, stubbed to answer 410 GoneException."""
    signed_in(pool, "fan-4", "c4")
    connections = _runtime.connections()
    endpoint = os.environ["COUCHPAY_WS_ENDPOINT"]
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    connections._management[endpoint] = client
    with Stubber(client) as stub:
        stub.add_client_error(
            "post_to_connection", service_error_code="GoneException", http_status_code=410
        )
        default.handler(message_event("c4", '{"action": "get-items"}'), None)
        stub.assert_no_pending_responses()
    assert connections.user_of("c4") is None


def test_disconnect_forgets_the_connection(api: FakeManagement, pool: TestUserPool) -> None:
    signed_in(pool, "fan-5", "c5")
    event = {"requestContext": {"routeKey": "$disconnect", "connectionId": "c5"}}
    assert disconnect.handler(event, None) == {"statusCode": 200}
    assert _runtime.connections().user_of("c5") is None


def test_a_push_reaches_every_open_connection_of_the_user_only(
    api: FakeManagement, pool: TestUserPool
) -> None:
    for user, connection in [("fan-6", "tab-1"), ("fan-6", "tab-2"), ("fan-6", "tab-3")]:
        signed_in(pool, user, connection)
    signed_in(pool, "other", "tab-x")
    api.gone.add("tab-2")
    connections = _runtime.connections()
    connections.notify("fan-6", {"action": "purchase-request-resp-success", "message": {}})
    assert sorted(to for to, _ in api.sent) == ["tab-1", "tab-3"]
    assert connections.user_of("tab-2") is None
    assert connections.user_of("tab-x") == "other"


def test_an_expired_connection_record_is_not_trusted(lambda_env: str, pool: TestUserPool) -> None:
    signed_in(pool, "fan-7", "c7")
    later = AwsConnections(_runtime.connections().settings, clock=lambda: time.time() + 3 * 3600)
    assert later.user_of("c7") is None


def test_a_frame_on_an_expired_sign_in_is_refused_and_the_connection_closed(
    api: FakeManagement, pool: TestUserPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in(pool, "fan-8", "c8")
    later = AwsConnections(_runtime.connections().settings, clock=lambda: time.time() + 3 * 3600)
    monkeypatch.setattr(_runtime, "connections", lambda: later)
    frame = json.dumps({"action": "get-items", "requestId": "r8"})
    assert default.handler(message_event("c8", frame), None)["statusCode"] == 200
    assert [(to, reply["message"]["code"]) for to, reply in api.sent] == [("c8", "unauthorized")]
    assert api.closed == ["c8"]
    assert later.user_of("c8") is None


# webhook -----------------------------------------------------------------------------------
def stripe_signature(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    ts = int(time.time())
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def http_event(body: bytes, signature: str, base64_encoded: bool) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "POST /stripe/webhook",
        "rawPath": "/stripe/webhook",
        "headers": {"content-type": "application/json", "stripe-signature": signature},
        "body": base64.b64encode(body).decode() if base64_encoded else body.decode(),
        "isBase64Encoded": base64_encoded,
    }


@pytest.mark.parametrize("base64_encoded", [False, True])
def test_webhook_checks_the_signature_on_the_raw_body_and_keeps_events_once(
    api: FakeManagement, base64_encoded: bool
) -> None:
    event = json.dumps({"id": f"evt_{time.time_ns()}", "type": "ping", "data": {}}).encode()
    forged = webhook.handler(http_event(event, stripe_signature(event, "whsec_x"), False), None)
    first = webhook.handler(http_event(event, stripe_signature(event), base64_encoded), None)
    again = webhook.handler(http_event(event, stripe_signature(event), base64_encoded), None)
    assert forged["statusCode"] == 400
    assert first["statusCode"] == 200
    assert json.loads(first["body"])["duplicate"] is False
    assert json.loads(again["body"])["duplicate"] is True
    reformatted = json.dumps(json.loads(event), indent=2).encode()  # same JSON, other bytes
    assert (
        webhook.handler(http_event(reformatted, stripe_signature(event), False), None)["statusCode"]
        == 400
    )


def test_webhook_refuses_a_body_that_is_not_base64(api: FakeManagement) -> None:
    event = http_event(b"{}", "t=1,v1=00", False) | {"body": "%%%", "isBase64Encoded": True}
    assert webhook.handler(event, None)["statusCode"] == 400


def test_handlers_answer_500_rather_than_raise(
    lambda_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COUCHPAY_DB", "sqlite:///nope")  # not a Lambda configuration
    _runtime.reset()
    assert connect.handler(connect_event("x"), None)["statusCode"] == 500
    assert default.handler(message_event("c", "{}"), None) == {"statusCode": 500}
    assert disconnect.handler({"requestContext": {"connectionId": "c"}}, None)["statusCode"] == 500
    body = b"{}"
    assert (
        webhook.handler(http_event(body, stripe_signature(body), False), None)["statusCode"] == 500
    )


def test_connect_keeps_the_tokens_email_for_receipts(
    api: FakeManagement, pool: TestUserPool
) -> None:
    claims = {**pool.claims("fan-mail", token_use="id"), "email": "fan@example.com"}
    reply = connect.handler(connect_event(pool.sign(claims), "c-mail"), None)
    assert reply["statusCode"] == 200
    signed_in(pool, "fan-no-mail", "c-no-mail")
    connections = _runtime.connections()
    caller = connections.caller_of("c-mail")
    assert caller is not None and (caller.user_id, caller.email) == ("fan-mail", "fan@example.com")
    other = connections.caller_of("c-no-mail")
    assert other is not None and other.email is None
