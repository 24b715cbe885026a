"""HTTP ``POST /stripe/webhook``: the same webhook service as ``couchpay serve``'s endpoint.

The Stripe signature covers the raw body, so the body is used exactly as it came (decoded from
base64 when API Gateway encoded it), never re-serialized. The work runs within the
invocation's time budget (``_runtime.budget_seconds``); a Stripe call that does not fit fails
the event with a 5xx, which Stripe retries."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from couchpay import time_budget
from couchpay.entrypoints.aws_lambda import _runtime

log = _runtime.log


def raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body, validate=True)
    return body.encode("utf-8") if isinstance(body, str) else b""


def header(event: dict[str, Any], name: str) -> str:
    headers = event.get("headers") or {}
    return next((str(v) for k, v in headers.items() if k.lower() == name), "")


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        body = raw_body(event)
    except (binascii.Error, ValueError):
        return _response(400, {"error": "bad_request"})
    try:
        from couchpay.entrypoints.webhook_endpoint import verify_webhook

        runtime = _runtime.runtime()
        with time_budget.within(_runtime.budget_seconds(context)):
            result = verify_webhook(runtime, body, header(event, "stripe-signature"))
    except Exception:  # Stripe retries a 5xx later
        log.exception("webhook failed")
        return _response(500, {"error": "internal_error"})
    return _response(result.status, result.body)
