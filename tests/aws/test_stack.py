"""The serverless.yml stack on serverless-offline: what only the stack itself can show.

(The whole end-to-end suite also runs against it: COUCHPAY_E2E_TARGET=sls, see tests/e2e.)"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest
import websockets

from couchpay.adapters.aws_connections import AwsConnections
from couchpay.adapters.dynamodb_store import DynamoDbSettings
from couchpay.client import CouchpayClient
from tests.aws.servers import REGION
from tests.aws.stack import TABLE_PREFIX, SlsStack
from tests.aws.test_connect import forged
from tests.e2e.helpers import THREE_DS
from tests.shipping import ADDRESS
from tests.stripe_browser import authenticate_payment_intent, create_payment_method


def registry(stack: SlsStack) -> AwsConnections:
    settings = DynamoDbSettings(TABLE_PREFIX, REGION, stack.dynamodb.endpoint)
    return AwsConnections(settings, dynamodb=stack.dynamodb.client())


@pytest.mark.parametrize(
    "case", ["no token", "expired", "wrong issuer", "wrong audience (access token)", "alg none"]
)
async def test_connect_refuses_through_the_stack(sls_stack: SlsStack, case: str) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await CouchpayClient.connect(sls_stack.ws_url, forged(sls_stack.pool)[case])
    assert refused.value.response.status_code == 403


async def test_a_signed_in_socket_is_recorded_until_it_closes(sls_stack: SlsStack) -> None:
    user = f"fan-{uuid.uuid4()}"
    async with await CouchpayClient.connect(sls_stack.ws_url, sls_stack.pool.token(user)) as c:
        assert (await c.call("get-items"))["action"] == "get-items-resp-success"
        assert len(registry(sls_stack).connections_of(user)) == 1
    deadline = time.monotonic() + 15
    while registry(sls_stack).connections_of(user) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert registry(sls_stack).connections_of(user) == []


async def test_a_socket_ends_when_its_sign_in_expires(sls_stack: SlsStack) -> None:
    """SPEC, Identity: a connection ends when its token expires. The next frame after expiry
    is answered ``unauthorized`` and the stack closes the socket."""
    ttl = 8
    expires = time.time() + ttl
    token = sls_stack.pool.token(f"fan-{uuid.uuid4()}", ttl=ttl)
    async with await CouchpayClient.connect(sls_stack.ws_url, token) as client:
        assert (await client.call("get-items"))["action"] == "get-items-resp-success"
        await asyncio.sleep(max(0.0, expires - time.time()) + 1.5)
        frame = json.dumps({"action": "get-items", "message": {}})
        refused = await client.send_raw(frame)
        assert refused["message"]["code"] == "unauthorized", refused
        await client.wait_closed()


def signature(body: bytes, secret: str) -> str:
    ts = int(time.time())
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def test_the_webhook_endpoint_checks_signatures_and_keeps_events_once(
    sls_stack: SlsStack,
) -> None:
    url = f"{sls_stack.http_url}/stripe/webhook"
    event = json.dumps({"id": f"evt_{time.time_ns()}", "type": "ping", "data": {}}).encode()

    def post(secret: str) -> httpx.Response:
        headers = {"Stripe-Signature": signature(event, secret), "Content-Type": "application/json"}
        return httpx.post(url, content=event, headers=headers, timeout=30)

    assert post("whsec_wrong").status_code == 400
    first, again = post(sls_stack.webhook_secret), post(sls_stack.webhook_secret)
    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (again.status_code, again.json()["duplicate"]) == (200, True)


async def test_a_webhook_settling_a_purchase_is_pushed_to_the_users_sockets(
    sls_stack: SlsStack,
) -> None:
    """3-D Secure completed at 'Stripe': localstripe's webhook reaches the stack, which settles
    the purchase and pushes the outcome to the user's open socket, dropping a gone one (410)."""
    user = f"fan-{uuid.uuid4()}"
    api = sls_stack.localstripe.api_base
    async with await CouchpayClient.connect(sls_stack.ws_url, sls_stack.pool.token(user)) as c:
        saved = await c.call(
            "create-payment-method", {"stripePayment": create_payment_method(api, THREE_DS)}
        )
        assert saved["action"] == "create-payment-method-resp-success", saved
        items = (await c.call("get-items"))["message"]["items"]
        cart = [{"item_id": i["itemId"], "price_cents": i["priceCents"]} for i in items[:1]]
        rid = str(uuid.uuid4())
        reply = await c.call(
            "purchase-request",
            {"cardId": saved["message"]["uuid"], "items": cart, "shippingAddress": ADDRESS},
            rid,
        )
        assert reply["action"] == "get-payment-intent", reply
        connections = registry(sls_stack)
        endpoint = connections.connections_of(user)[0][1]
        connections.add("a-tab-closed-long-ago", user, endpoint)  # API Gateway will answer 410

        secret = reply["message"]["clientSecret"]
        authenticate_payment_intent(api, secret.split("_secret_")[0], secret, True)
        pushed = await asyncio.wait_for(c.pushed.get(), 30)

    assert (pushed["action"], pushed["requestId"]) == ("purchase-request-resp-success", rid)
    assert pushed["message"]["transactionId"] == reply["message"]["transactionId"]
    deadline = time.monotonic() + 15  # the pushes go one after the other
    while connections.user_of("a-tab-closed-long-ago") and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert connections.user_of("a-tab-closed-long-ago") is None
