"""API Gateway's 128 KB message cap on the Lambda side: a stand-in Management API that refuses
larger payloads the way API Gateway does (413 PayloadTooLargeException); the history of the
issue's case (44 purchases with 50-line carts, ~164 KB in one page) still reaches the fan, page
by page; a refused post is never reported as delivered."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from couchpay.adapters.aws_connections import AwsConnections
from couchpay.entrypoints.aws_lambda import _runtime, default
from couchpay.wire import reply_size
from couchpay.wire.views import body, purchase_view
from tests import big_history
from tests.aws.test_handlers import FakeManagement, message_event, signed_in

API_GATEWAY_CAP = 128 * 1024


def payload_too_large() -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "PayloadTooLargeException"},
            "ResponseMetadata": {"HTTPStatusCode": 413},
        },
        "PostToConnection",
    )


class CappedManagement(FakeManagement):
    """post_to_connection refusing what API Gateway refuses: over 128 KB."""

    def __init__(self, cap: int = API_GATEWAY_CAP) -> None:
        super().__init__()
        self.cap = cap
        self.sizes: list[int] = []
        self.refused = 0

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        self.sizes.append(len(Data))
        if len(Data) > self.cap:
            self.refused += 1
            raise payload_too_large()
        return super().post_to_connection(ConnectionId, Data)


@pytest.fixture
def capped(lambda_env: str, monkeypatch: pytest.MonkeyPatch) -> CappedManagement:
    fake = CappedManagement()
    monkeypatch.setattr(AwsConnections, "management", lambda self, endpoint: fake)
    return fake


def test_the_issues_history_reaches_the_fan_page_by_page(
    capped: CappedManagement, pool: Any
) -> None:
    signed_in(pool, "fan-big", "c-big")
    expected = big_history.seed(_runtime.runtime().services.store, "fan-big")
    one_page = sum(
        reply_size.size(body(purchase_view(big_history.big_purchase("fan-big", n))))
        for n in range(big_history.PURCHASES)
    )
    assert one_page > API_GATEWAY_CAP  # as measured in the issue: it cannot go in one message
    seen: list[str] = []
    cursor: str | None = None
    for page in range(10):
        message: dict[str, Any] = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        frame = json.dumps(
            {"action": "get-user-purchases", "requestId": f"p{page}", "message": message}
        )
        assert default.handler(message_event("c-big", frame), None) == {"statusCode": 200}
        _, reply = capped.sent[-1]
        assert (reply["action"], reply["requestId"]) == ("view-purchases-resp-success", f"p{page}")
        seen += [p["transactionId"] for p in reply["message"]["purchases"]]
        cursor = reply["message"]["nextCursor"]
        if cursor is None:
            break
    assert seen == expected  # all 44, newest first, none twice
    assert page > 0 and capped.refused == 0
    assert max(capped.sizes) <= API_GATEWAY_CAP


def test_a_refused_post_is_not_reported_as_delivered(
    lambda_env: str, pool: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in(pool, "fan-413", "c-413")
    refusing = CappedManagement(cap=10)  # API Gateway answering 413 to this post
    monkeypatch.setattr(AwsConnections, "management", lambda self, endpoint: refusing)
    connections = _runtime.connections()
    delivered = connections.post("http://gateway.invalid", "c-413", {"action": "x"})
    assert delivered is False and refusing.refused == 1
    assert connections.user_of("c-413") == "fan-413"  # refused, not gone: the connection stays


def test_a_reply_over_the_cap_goes_as_reply_too_large(capped: CappedManagement) -> None:
    connections = _runtime.connections()
    huge = {"action": "get-items-resp-success", "message": {"x": "y" * 200_000}, "requestId": "r"}
    assert connections.post("http://gateway.invalid", "c-any", huge) is True
    [(_, reply)] = capped.sent
    assert reply["action"] == "error" and reply["requestId"] == "r"
    assert reply["message"]["code"] == "reply_too_large"
