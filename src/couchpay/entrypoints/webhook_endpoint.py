"""POST /stripe/webhook (local server) and the webhook Lambda: one thin adapter.

400 for a bad signature or body (Stripe will not fix it by retrying); 503 when Stripe itself
cannot be reached to re-read the object (Stripe retries the delivery later); 200 otherwise."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from couchpay.domain.errors import BadRequest, CouchpayError, GatewayUnavailable
from couchpay.service.context import Services

if TYPE_CHECKING:
    from couchpay.bootstrap import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookResult:
    status: int
    body: dict[str, Any]


def receive_webhook(
    services: Services, secret: str | None, body: bytes, signature: str
) -> WebhookResult:
    from couchpay.adapters.stripe_webhooks import parse_event
    from couchpay.service.webhooks import handle_event

    if not secret:
        return WebhookResult(503, {"error": "webhooks are not configured"})
    try:
        event = parse_event(body, signature, secret)
    except BadRequest as exc:
        return WebhookResult(400, {"error": exc.code})
    try:
        outcome, first = handle_event(services, event)
    except GatewayUnavailable:
        return WebhookResult(503, {"error": "payment provider unreachable; retry later"})
    except CouchpayError as exc:  # nothing a retry would change: acknowledge, keep a trace
        log.warning("webhook %s %s not applied: %s", event.type, event.id, exc.code)
        return WebhookResult(200, {"received": True, "duplicate": False, "outcome": exc.code})
    return WebhookResult(200, {"received": True, "duplicate": not first, "outcome": outcome})


def verify_webhook(runtime: Runtime, body: bytes, signature: str) -> WebhookResult:
    return receive_webhook(runtime.services, runtime.webhook_secret, body, signature)
