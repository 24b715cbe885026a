"""Purchase transaction records. Written ``pending`` before Stripe is called, settled after.

The shipping address and the receipt email are written with the claim and never change."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from couchpay.domain.disputes import Dispute
from couchpay.domain.errors import GatewayUnavailable
from couchpay.domain.shipping import ShippingAddress
from couchpay.domain.statuses import PurchaseStatus


@dataclass(frozen=True)
class PurchaseLine:
    item_id: str
    name: str
    unit_price_cents: int
    quantity: int
    shipping_cents: int = 0
    limited: bool = False
    """The item had a capacity when bought: this line holds ``quantity`` of its units."""


@dataclass(frozen=True)
class Purchase:
    transaction_id: str
    request_id: str
    request_hash: str
    user_id: str
    card_id: str | None
    card_brand: str
    card_last_four: str
    items: tuple[PurchaseLine, ...]
    subtotal_cents: int
    streaming_cost_cents: int
    shipping_cents: int
    total_cents: int
    currency: str
    created_at: datetime
    updated_at: datetime
    payment_method_id: str = ""
    payment_intent_id: str | None = None
    active: bool = True
    status: PurchaseStatus = PurchaseStatus.PENDING
    failure_code: str | None = None
    failure_message: str | None = None
    stripe_response: dict[str, Any] = field(default_factory=dict)
    refunded_cents: int = 0
    shipping_address: ShippingAddress | None = None
    receipt_email: str | None = None
    save_card: bool = False
    """The card was typed in with "save this card": it joins the wallet once the payment
    succeeds (never a declined one)."""
    line_slot_at: datetime | None = None
    """On AWS, while ``queued``: when the shared line will send it (its slot). A copy of the
    request (a reconnect) is told its place from it."""
    dispute: Dispute | None = None
    """The cardholder's dispute of the charge, as Stripe last said (``domain.disputes``)."""

    def settled_as(
        self,
        status: PurchaseStatus,
        now: datetime,
        *,
        payment_intent_id: str | None = None,
        failure_code: str | None = None,
        failure_message: str | None = None,
        stripe_response: dict[str, Any] | None = None,
    ) -> Purchase:
        return replace(
            self,
            status=status,
            updated_at=now,
            payment_intent_id=payment_intent_id or self.payment_intent_id,
            failure_code=failure_code,
            failure_message=failure_message,
            stripe_response=stripe_response
            if stripe_response is not None
            else self.stripe_response,
        )


def held_units(p: Purchase) -> dict[str, int]:
    """Units of limited items this purchase holds while its status holds units."""
    held: dict[str, int] = {}
    for line in p.items:
        if line.limited:
            held[line.item_id] = held.get(line.item_id, 0) + line.quantity
    return held


def unpaid_reason(p: Purchase) -> tuple[str, str] | None:
    """What a fan is told about a purchase that is not paid: ``(code, sentence)``. None when it
    is paid (or refunded after paying) or waits for 3-D Secure. A ``pending`` purchase is not a
    failure: its outcome is unknown yet (``payment_processing``), and it is never charged twice."""
    if p.status in (PurchaseStatus.SUCCEEDED, PurchaseStatus.REFUNDED):
        return None
    if p.status is PurchaseStatus.REQUIRES_ACTION:
        return None
    if p.status in (PurchaseStatus.PENDING, PurchaseStatus.QUEUED):
        return GatewayUnavailable.code, GatewayUnavailable.default_message
    return (
        p.failure_code or "payment_failed",
        p.failure_message or "The payment did not go through.",
    )


def request_hash(
    payment_source: str,
    lines: list[tuple[str, int, int]],
    shipping_address: ShippingAddress | None = None,
) -> str:
    """A stable digest of what a purchase request asks for: same requestId must mean the same
    (the cart, the card and where it ships)."""
    parts: list[Any] = [payment_source, sorted(lines)]
    if shipping_address is not None:  # absent: the same digest as before addresses existed
        parts.append(sorted(asdict(shipping_address).items()))
    body = json.dumps(parts, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()
