"""WebSocket ``$connect``: verify the sign-in token, record the connection.

The token comes as ``?token=`` (browsers cannot set headers on a WebSocket). A missing or bad
token is refused with 403 before the socket opens. This module never loads Stripe."""

from __future__ import annotations

from typing import Any

from couchpay.domain.errors import Unauthorized
from couchpay.entrypoints.aws_lambda import _runtime

log = _runtime.log


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        request = event["requestContext"]
        token = (event.get("queryStringParameters") or {}).get("token") or ""
        try:
            caller = _runtime.verifier().caller(token)
        except Unauthorized as exc:
            log.info("connection %s refused: %s", request.get("connectionId"), exc.message)
            return {"statusCode": 403, "body": "unauthorized"}
        endpoint = _runtime.management_endpoint(request)
        _runtime.connections().add(
            request["connectionId"], caller.user_id, endpoint, email=caller.email
        )
    except Exception:  # never let the runtime see an exception: answer 500, keep a trace
        log.exception("$connect failed")
        return {"statusCode": 500, "body": "internal error"}
    return {"statusCode": 200}
