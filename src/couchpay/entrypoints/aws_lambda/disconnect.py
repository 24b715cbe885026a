"""WebSocket ``$disconnect``: forget the connection (its TTL would, later)."""

from __future__ import annotations

from typing import Any

from couchpay.entrypoints.aws_lambda import _runtime

log = _runtime.log


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        _runtime.connections().remove(event["requestContext"]["connectionId"])
    except Exception:
        log.exception("$disconnect failed")
        return {"statusCode": 500}
    return {"statusCode": 200}
