"""WebSocket ``$default``: one frame from a signed-in connection, answered over the socket.

The frame goes to ``couchpay.protocol.handle_frame`` with the user recorded at ``$connect``
(the same handlers ``couchpay serve`` runs); the reply is posted to the connection through the
API Gateway Management API. A gone connection (410) is forgotten."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from couchpay.entrypoints.aws_lambda import _runtime

log = _runtime.log
UNKNOWN_CONNECTION = {
    "action": "error",
    "message": {"code": "unauthorized", "error": "This connection is not signed in."},
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


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        request = event["requestContext"]
        connection_id = request["connectionId"]
        connections = _runtime.connections()
        caller = connections.caller_of(connection_id)
        if caller is None:
            reply: dict[str, Any] = UNKNOWN_CONNECTION
        else:
            from couchpay.protocol import handle_frame

            services = _runtime.runtime().services.for_caller(caller.email)
            reply = handle_frame(services, caller.user_id, frame_of(event))
        connections.post(_runtime.management_endpoint(request), connection_id, reply)
    except Exception:
        log.exception("$default failed")
        return {"statusCode": 500}
    return {"statusCode": 200}
