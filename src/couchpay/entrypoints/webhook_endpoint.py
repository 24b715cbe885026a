"""POST /stripe/webhook: the signature is checked against the raw body; events kept once.

Full event handling (settling purchases, card updates) belongs to the webhooks service."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import stripe

from couchpay.bootstrap import Runtime

log = logging.getLogger(__name__)
TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class WebhookResult:
    status: int
    body: dict[str, Any]


def verify_webhook(runtime: Runtime, body: bytes, signature: str) -> WebhookResult:
    secret = runtime.webhook_secret
    if not secret:
        return WebhookResult(503, {"error": "webhooks are not configured"})
    try:
        stripe.WebhookSignature.verify_header(
            body.decode("utf-8"), signature, secret, TOLERANCE_SECONDS
        )
        event = json.loads(body)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError):
        return WebhookResult(400, {"error": "invalid signature"})
    event_id = event.get("id") if isinstance(event, dict) else None
    if not isinstance(event_id, str):
        return WebhookResult(400, {"error": "not an event"})
    services = runtime.services
    first = services.store.record_event(event_id, str(event.get("type")), services.now())
    return WebhookResult(200, {"received": True, "duplicate": not first})
