"""Stripe webhook deliveries: signature checked against the raw body, then reduced to our event."""

from __future__ import annotations

import json

import stripe

from couchpay.domain.errors import BadRequest
from couchpay.service.webhooks import WebhookEvent

TOLERANCE_SECONDS = 300  # Stripe's own default: a delivery older than 5 minutes is refused


class InvalidSignature(BadRequest):
    code = "invalid_signature"
    default_message = "The webhook signature is not valid."


def parse_event(
    body: bytes, signature: str, secret: str, tolerance: int = TOLERANCE_SECONDS
) -> WebhookEvent:
    try:
        stripe.WebhookSignature.verify_header(body.decode("utf-8"), signature, secret, tolerance)
        event = json.loads(body)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
        raise InvalidSignature() from exc
    if not isinstance(event, dict):  # signed, but a list, string, number or null
        raise BadRequest("The webhook body is not a Stripe event.")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not (isinstance(event.get("id"), str) and isinstance(event.get("type"), str)):
        raise BadRequest("The webhook body is not a Stripe event.")
    obj = obj if isinstance(obj, dict) else {}
    return WebhookEvent(
        id=event["id"],
        type=event["type"],
        object_id=str(obj.get("id") or ""),
        payment_intent_id=_id(obj.get("payment_intent")),
        transaction_id=_transaction_of(obj),
    )


def _transaction_of(obj: dict[str, object]) -> str | None:
    metadata = obj.get("metadata")
    found = metadata.get("transaction_id") if isinstance(metadata, dict) else None
    return found if isinstance(found, str) and found else None


def _id(value: object) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None
