"""WebSocket ``$default``: one frame from a signed-in connection, answered over the socket.

The frame goes to ``couchpay.wire.protocol.handle_frame`` with the user recorded at ``$connect``
(the same handlers ``couchpay serve`` runs); the reply is posted to the connection through the
API Gateway Management API. A gone connection (410) is forgotten. A connection whose sign-in has
expired (or that is unknown) is answered ``unauthorized`` and closed: a connection ends when its
token expires (SPEC, Identity).

The work runs within the invocation's time budget (``_runtime.budget_seconds``): Stripe's
timeouts and retries are sized from it, so a Stripe that hangs ends as our own
``payment_processing`` reply (the purchase stays ``pending``, settled later), posted before API
Gateway's 29 s, never as API Gateway's bare timeout message."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from couchpay import time_budget
from couchpay.entrypoints.aws_lambda import _runtime
from couchpay.ports.identity import Caller

log = _runtime.log
UNKNOWN_CONNECTION = {
    "action": "error",
    "message": {
        "code": "unauthorized",
        "error": "This connection is not signed in, or its sign-in expired. Sign in again.",
    },
    "requestId": None,
}


def frame_of(event: dict[str, Any]) -> str | bytes:
    """The frame as sent. A text frame is ``body``; a base64 body is decoded. serverless-offline
    hands a binary frame over as a serialized Node Buffer (``{"type": "Buffer", "data": []}``);
    anything else is an empty (hence invalid) frame."""
    body = event.get("body")
    try:
        if isinstance(body, str):
            return base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body
        if isinstance(body, dict) and body.get("type") == "Buffer":
            return bytes(body.get("data") or [])
    except (binascii.Error, ValueError, TypeError):
        pass
    return b""


def answer_frame(caller: Caller, frame: str | bytes) -> dict[str, Any]:
    """``protocol`` parses and answers; Stripe-writing actions first take one of the user's
    per-minute allowance (a DynamoDB counter shared by every Lambda instance)."""
    from couchpay.limits import refuse_stripe_write
    from couchpay.wire import protocol

    parsed = protocol.parse(frame)
    if isinstance(parsed, dict):
        return parsed
    refusal = refuse_stripe_write(parsed, caller.user_id, _runtime.stripe_write_taker())
    services = _runtime.runtime().services.for_caller(caller.email)
    return refusal or protocol.answer(services, caller.user_id, parsed)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        request = event["requestContext"]
        connection_id = request["connectionId"]
        connections = _runtime.connections()
        caller = connections.caller_of(connection_id)
        endpoint = _runtime.management_endpoint(request)
        if caller is None:
            connections.post(endpoint, connection_id, UNKNOWN_CONNECTION)
            connections.close(endpoint, connection_id)
            return {"statusCode": 200}
        _runtime.runtime()  # a cold start is built before the budget is read
        with time_budget.within(_runtime.budget_seconds(context)):
            reply = answer_frame(caller, frame_of(event))
        connections.post(endpoint, connection_id, reply)
    except Exception:
        log.exception("$default failed")
        return {"statusCode": 500}
    return {"statusCode": 200}
