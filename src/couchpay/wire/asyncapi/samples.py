"""The sample records every example in the document is made from (by the real views), and the
shapes of an action's documentation. Constants of the document itself live here too."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from couchpay.domain.cards import Card
from couchpay.domain.catalog import DEMO_CATALOG
from couchpay.domain.disputes import Dispute, DisputeStatus
from couchpay.domain.errors import (
    Busy,
    CouchpayError,
)
from couchpay.domain.pricing import CartLine, price_cart
from couchpay.domain.purchases import Purchase, PurchaseLine
from couchpay.domain.shipping import ShippingAddress
from couchpay.domain.statuses import PurchaseStatus
from couchpay.service.exactly_once import PurchaseOutcome
from couchpay.wire import views
from couchpay.wire.protocol import error_message
from couchpay.wire.routes import outcome_reply

ASYNCAPI_VERSION = "3.0.0"
CHANNEL = "api"
SCHEMA_REF = "#/components/schemas/{model}"
PUSH_OPERATION = "purchase-settled"
REGENERATE = "couchpay asyncapi --out docs"

# --- sample records: the reply examples are what the real views make of them ---------------
_T = datetime(2026, 3, 14, 20, 5, 9, tzinfo=UTC)
USER = "fan-1"
REQUEST_ID = "7c1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
CARD_ID = "3b9d6c1e-7a52-4f0e-9c1a-2d8e5f4a7b10"
PM_ID = "pm_1PqR2sT3uV4wX5yZ"
SETI_ID = "seti_1PqR2sT3uV4wX5yZ"
TX_ID = "0d4b8f6a-2c3e-4a1b-9f7d-5e6c8a9b0c1d"
PI_ID = "pi_3PqR2sT3uV4wX5yZ"

SAMPLE_CARD = Card(
    card_id=CARD_ID,
    user_id=USER,
    stripe_customer_id="cus_PqR2sT3uV4wX5y",
    card_token=PM_ID,
    fingerprint="Xt5EWLLDS7FJjR1c",
    brand="visa",
    last_four="4242",
    exp_month=12,
    exp_year=2030,
    name_on_card="Ada Lovelace",
    created_at=_T,
    updated_at=_T,
)
_DEMO_LINES = [CartLine(item, 1) for item in DEMO_CATALOG]
_DEMO_TOTALS = price_cart(_DEMO_LINES)
_SHIPS_TO = ShippingAddress(
    name="Ada Lovelace",
    line1="12 St James's Square",
    city="London",
    postal_code="SW1Y 4JH",
    country="GB",
)
SAMPLE_PURCHASE = Purchase(
    transaction_id=TX_ID,
    request_id=REQUEST_ID,
    request_hash="",
    user_id=USER,
    card_id=CARD_ID,
    card_brand="visa",
    card_last_four="4242",
    items=tuple(
        PurchaseLine(i.item_id, i.name, i.price_cents, 1, i.shipping_cents) for i in DEMO_CATALOG
    ),
    subtotal_cents=_DEMO_TOTALS.subtotal_cents,
    streaming_cost_cents=_DEMO_TOTALS.streaming_cost_cents,
    shipping_cents=_DEMO_TOTALS.shipping_cents,
    total_cents=_DEMO_TOTALS.total_cents,
    currency="usd",
    created_at=_T,
    updated_at=_T,
    payment_method_id=PM_ID,
    payment_intent_id=PI_ID,
    status=PurchaseStatus.SUCCEEDED,
    shipping_address=_SHIPS_TO,
    receipt_email="ada@example.com",
)
SAMPLE_DISPUTE = Dispute(
    dispute_id="dp_1PqR2sT3uV4wX5yZ",
    charge_id="ch_3PqR2sT3uV4wX5yZ",
    amount_cents=_DEMO_TOTALS.total_cents,
    currency="usd",
    reason="product_not_received",
    status=DisputeStatus.NEEDS_RESPONSE,
    evidence_due_by=datetime(2026, 4, 4, 23, 59, 59, tzinfo=UTC),
    created_at=datetime(2026, 3, 20, 9, 0, tzinfo=UTC),
    updated_at=datetime(2026, 3, 20, 9, 0, tzinfo=UTC),
)
_ADDRESS = views.body(views.shipping_view(_SHIPS_TO))
_DECLINED = replace(
    SAMPLE_PURCHASE,
    status=PurchaseStatus.FAILED,
    failure_code="card_declined",
    failure_message="Your card was declined.",
)
_NEEDS_3DS = replace(SAMPLE_PURCHASE, status=PurchaseStatus.REQUIRES_ACTION)
_PENDING = replace(SAMPLE_PURCHASE, status=PurchaseStatus.PENDING)
_BUSY = replace(
    SAMPLE_PURCHASE,
    status=PurchaseStatus.FAILED,
    failure_code="busy",
    failure_message=Busy.default_message,
)


def _outcome(purchase: Purchase, client_secret: str | None = None) -> dict[str, Any]:
    return views.body(outcome_reply(PurchaseOutcome(purchase, client_secret))[1])


def _failure(exc: CouchpayError) -> dict[str, Any]:
    return error_message(exc)


# next-page cursors are opaque strings
_CURSOR = (
    "WyIyMDI2LTAzLTE0VDIwOjA1OjA5KzAwOjAwIiwiMGQ0YjhmNmEtMmMzZS00YTFiLTlmN2QtNWU2YzhhOWIwYzFkIl0"
)
_CART = [{"item_id": i.item_id, "price_cents": i.price_cents, "quantity": 1} for i in DEMO_CATALOG]


# --- what each action is for ----------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    name: str
    message: dict[str, Any]
    summary: str = ""


@dataclass(frozen=True)
class ActionDoc:
    title: str
    summary: str
    description: str
    tag: str
    request: tuple[Example, ...]
    success: dict[str, tuple[Example, ...]]
    failures: tuple[tuple[str, str], ...]
    failure_examples: tuple[Example, ...] = field(default_factory=tuple)


COMMON_FAILURES = (
    ("unauthorized", "`userId` or `cogId` was sent and is not the signed-in user."),
    ("internal_error", "Something broke on our side; nothing was charged twice. Try again."),
)
PAYMENT_FAILURES = (
    ("payment_processing", "Stripe did not answer in time; try again in a moment."),
    ("payment_rejected", "Stripe refused the request (not a decline); contact support."),
)
