"""WebSocket ``$connect``: verify the sign-in token, record the connection.

The token comes as ``?token=`` (browsers cannot set headers on a WebSocket). A missing or bad
token is refused with 403 before the socket opens. This module never loads Stripe."""

from __future__ import annotations

from typing import Any

from couchpay.domain.errors import Unauthorized
from couchpay.entrypoints.aws_lambda import _runtime
from couchpay.ports.identity import SignInUnavailable

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
        except SignInUnavailable as exc:  # the pool's keys are unreachable: retry later
            log.warning("connection %s refused: %s", request.get("connectionId"), exc)
            return {"statusCode": 503, "body": "sign-in unavailable"}
        connections = _runtime.connections()
        if connections.count_of(caller.user_id) >= _runtime.config().max_sockets_per_user:
            log.warning("connection %s refused: too many sockets", request.get("connectionId"))
            return {"statusCode": 429, "body": "too many sockets"}
        endpoint = _runtime.management_endpoint(request)
        connections.add(
            request["connectionId"], caller.user_id, endpoint, caller.expires_at, caller.email
        )
    except Exception:  # never let the runtime see an exception: answer 500, keep a trace
        log.exception("$connect failed")
        return {"statusCode": 500, "body": "internal error"}
    return {"statusCode": 200}
