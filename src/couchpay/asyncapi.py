"""The WebSocket protocol as an AsyncAPI 3.0 document, and readable pages made from it.

Generated, never written by hand: request schemas come from the models the server validates
with (``routes.ROUTES`` -> ``messages.py``), reply schemas from ``reply_models.py`` (which tests
hold to what ``views.py`` / ``routes.py`` really send), and the reply examples are produced by
the real view code from sample records. The checked-in copy lives in ``docs/``; regenerate it
with ``couchpay asyncapi --out docs`` (a test fails while it differs).

The document describes the service's side: it *receives* each request action and replies on the
same connection; it *sends* purchase outcomes on its own when a Stripe webhook settles them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from couchpay import __version__, reply_models, views
from couchpay.domain.cards import Card
from couchpay.domain.catalog import DEMO_CATALOG
from couchpay.domain.errors import (
    AuthenticationIncomplete,
    BadRequest,
    CardChecksFailed,
    CardNotValid,
    CouchpayError,
    FrameTooLarge,
    ItemUnavailable,
    NotFound,
    PriceMismatch,
    RequestIdReused,
    Unauthorized,
    UnknownAction,
)
from couchpay.domain.pricing import DEFAULT_STREAMING_RATE, CartLine, price_cart
from couchpay.domain.purchases import Purchase, PurchaseLine
from couchpay.domain.statuses import PurchaseStatus
from couchpay.protocol import ERROR_ACTION, MAX_FRAME_BYTES, error_message
from couchpay.routes import ROUTES, outcome_reply
from couchpay.service.purchases import PurchaseOutcome

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
)
_DECLINED = replace(
    SAMPLE_PURCHASE,
    status=PurchaseStatus.FAILED,
    failure_code="card_declined",
    failure_message="Your card was declined.",
)
_NEEDS_3DS = replace(SAMPLE_PURCHASE, status=PurchaseStatus.REQUIRES_ACTION)
_PENDING = replace(SAMPLE_PURCHASE, status=PurchaseStatus.PENDING)


def _outcome(purchase: Purchase, client_secret: str | None = None) -> dict[str, Any]:
    return outcome_reply(PurchaseOutcome(purchase, client_secret))[1]


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

ACTIONS: dict[str, ActionDoc] = {
    "get-items": ActionDoc(
        title="List the items on sale",
        summary="The catalog the cart is built from (use case B1-B2).",
        description="Items on sale, cheapest first. Prices are integer cents. `shippingCents` is "
        "per unit and only merch ships. Send `priceCents` back as `price_cents` in "
        "`purchase-request`: if the price changed meanwhile the purchase is refused with "
        "`price_mismatch` instead of charging a price the fan did not see.",
        tag="shop",
        request=(Example("get-items", {}),),
        success={
            "get-items-resp-success": (
                Example(
                    "demo catalog",
                    views.catalog_view(list(DEMO_CATALOG), "usd", DEFAULT_STREAMING_RATE),
                ),
            )
        },
        failures=COMMON_FAILURES,
    ),
    "create-setup-intent": ActionDoc(
        title="Start saving a card (SCA-ready)",
        summary="Get a SetupIntent client secret for stripe.confirmCardSetup (use case A).",
        description="The SCA-ready way to save a card: send this, call "
        "`stripe.confirmCardSetup(clientSecret, {payment_method: {card: cardElement}})` on the "
        "page (Stripe may show 3-D Secure), then send `create-payment-method` with the "
        "`setupIntentId`. Card numbers only ever go from the page to Stripe.",
        tag="wallet",
        request=(Example("create-setup-intent", {}),),
        success={
            "get-setup-intent": (
                Example("setup intent", {"clientSecret": f"{SETI_ID}_secret_QmFzZTY0"}),
            )
        },
        failures=(*PAYMENT_FAILURES, *COMMON_FAILURES),
    ),
    "create-payment-method": ActionDoc(
        title="Save a card to the wallet",
        summary="Store a card the page created at Stripe (use case A6-A9).",
        description="Send either the PaymentMethod from `stripe.createPaymentMethod` "
        "(`stripePayment`, the object or its id) or the `setupIntentId` confirmed with "
        "`stripe.confirmCardSetup`. The service never trusts what the page sent: it re-reads "
        "the card at Stripe, attaches it to the fan's Stripe customer and stores it. The same "
        "card already in the wallet is returned, not stored twice. The first card saved "
        "becomes the default.",
        tag="wallet",
        request=(
            Example("from stripe.createPaymentMethod", {"stripePayment": {"id": PM_ID}}),
            Example("after stripe.confirmCardSetup", {"setupIntentId": SETI_ID}),
        ),
        success={
            "create-payment-method-resp-success": (
                Example(
                    "saved",
                    {"uuid": CARD_ID, **views.card_view(SAMPLE_CARD, _T, CARD_ID)},
                    "The card as stored (`uuid` and `id` are the same).",
                ),
            )
        },
        failures=(
            (
                "card_not_valid",
                "Stripe has no such card, it belongs to someone else, it has expired, or the "
                "setup did not complete.",
            ),
            ("authentication_incomplete", "The SetupIntent still needs 3-D Secure on the page."),
            (
                "card_checks_failed",
                "Stripe's CVC or postal-code check failed; the card is kept as `fail_checks`.",
            ),
            ("card_declined", "The bank refused the card (or another Stripe decline code)."),
            *PAYMENT_FAILURES,
            *COMMON_FAILURES,
        ),
        failure_examples=(
            Example("checks failed", _failure(CardChecksFailed())),
            Example("expired", _failure(CardNotValid("This card has expired."))),
        ),
    ),
    "get-user-credit-card": ActionDoc(
        title="List the wallet",
        summary="The fan's usable cards, default first (use cases D, B3-B4).",
        description="Only cards that are active, `live` and not past their expiry month; the "
        "default card first (`isDefault`), then newest first. Deleted, expired and failed "
        "cards are never listed.",
        tag="wallet",
        request=(Example("get-user-credit-card", {}),),
        success={
            "get-user-credit-card-resp-success": (
                Example("one card", {"cards": [views.card_view(SAMPLE_CARD, _T, CARD_ID)]}),
            )
        },
        failures=COMMON_FAILURES,
    ),
    "set-default-card": ActionDoc(
        title="Choose the default card",
        summary="Make a wallet card the default.",
        description="The default card is listed first. At most one card is the default.",
        tag="wallet",
        request=(Example("set-default-card", {"cardId": CARD_ID}),),
        success={
            "set-default-card-resp-success": (Example("done", {"id": CARD_ID, "isDefault": True}),)
        },
        failures=(
            ("not_found", "No such card in this fan's wallet (also for another fan's card)."),
            ("card_not_valid", "The card cannot be used (expired, or not live)."),
            *COMMON_FAILURES,
        ),
        failure_examples=(
            Example("unknown card", _failure(NotFound("No such card in your wallet."))),
        ),
    ),
    "delete-credit-card": ActionDoc(
        title="Delete a card",
        summary="Remove a card from the wallet.",
        description="The record is kept (purchases refer to it) but cancelled: `active: false`, "
        '`status: "cancelled"`, and the card is detached at Stripe. Deleting the default '
        "card makes the newest remaining card the default.",
        tag="wallet",
        request=(Example("delete-credit-card", {"cardId": CARD_ID}),),
        success={
            "delete-credit-card-resp-success": (
                Example("deleted", {"id": CARD_ID, "active": False, "status": "cancelled"}),
            )
        },
        failures=(
            ("not_found", "No such card in this fan's wallet (or it was deleted already)."),
            *COMMON_FAILURES,
        ),
        failure_examples=(
            Example("unknown card", _failure(NotFound("No such card in your wallet."))),
        ),
    ),
    "purchase-request": ActionDoc(
        title="Buy",
        summary="Pay for a cart with a wallet card or a card typed in once (use case B5-B11).",
        description="`requestId` is required: it is the idempotency key. Sending the same "
        "`requestId` again (a retry, a double click, two tabs) never charges twice: it returns "
        "the first request's outcome. The same `requestId` with a different cart is "
        "`request_id_reused`, so use a new UUID per purchase the fan means to make.\n\n"
        "Pay with `cardId` (a wallet card) or `stripePayment` (a PaymentMethod created on the "
        "page; add `saveCard: true` to keep it in the wallet). Every line's `price_cents` must "
        "be the catalog price; the catalog price is what is charged.\n\n"
        "Totals are integer cents: subtotal = sum of price x quantity; streaming cost = the "
        "configured rate (10 %) of the subtotal, rounded half up; shipping = sum of shipping x "
        "quantity; total = subtotal + streaming cost + shipping.\n\n"
        "Three outcomes: `purchase-request-resp-success` (paid); `get-payment-intent` (the bank "
        "wants 3-D Secure: call `stripe.confirmCardPayment(clientSecret)` on the page, then send "
        "`confirm-purchase`); or `purchase-request-resp-failure`. A failure with `status: "
        '"pending"` (`payment_processing`) is not a decline: the outcome is pushed to the '
        "page when Stripe settles it (see `purchase-settled`).",
        tag="shop",
        request=(
            Example("with a wallet card", {"cardId": CARD_ID, "items": _CART}),
            Example(
                "with a card typed in once, saved",
                {"stripePayment": {"id": PM_ID}, "saveCard": True, "items": _CART[:1]},
            ),
        ),
        success={
            "purchase-request-resp-success": (
                Example("paid", _outcome(SAMPLE_PURCHASE), "The demo cart: 17000 + 1700 + 500."),
            ),
            "get-payment-intent": (
                Example(
                    "3-D Secure needed",
                    _outcome(_NEEDS_3DS, f"{PI_ID}_secret_c2VjcmV0"),
                    "Call stripe.confirmCardPayment(clientSecret), then confirm-purchase.",
                ),
            ),
        },
        failures=(
            ("bad_request", "No `requestId`, or neither/both of `cardId` and `stripePayment`."),
            ("item_unavailable", "An item does not exist or is no longer on sale."),
            ("price_mismatch", "A price changed since `get-items`: reload the items."),
            (
                "card_not_valid",
                "The card is not the fan's, deleted, not live or expired; or Stripe has no such "
                "PaymentMethod.",
            ),
            ("card_checks_failed", "Stripe's CVC or postal-code check failed."),
            ("request_id_reused", "This `requestId` was used for a different cart."),
            (
                "card_declined",
                'Declined (with `transactionId` and `status: "failed"`); other Stripe decline '
                "codes (`insufficient_funds`, `expired_card`, ...) come through as they are.",
            ),
            (
                "payment_processing",
                'With `status: "pending"`: Stripe has not answered yet. Not a failure; the '
                "outcome is pushed later and retrying with the same `requestId` is safe.",
            ),
            *COMMON_FAILURES,
        ),
        failure_examples=(
            Example("declined", _outcome(_DECLINED), "The purchase is recorded as failed."),
            Example("still processing", _outcome(_PENDING)),
            Example(
                "price changed",
                _failure(PriceMismatch("The price of Tour poster is now 12000 cents.")),
                "Refused before anything was recorded or charged.",
            ),
            Example("reused requestId", _failure(RequestIdReused())),
            Example(
                "item off sale",
                _failure(ItemUnavailable(f"Item {DEMO_CATALOG[2].item_id} is not available.")),
            ),
        ),
    ),
    "confirm-purchase": ActionDoc(
        title="Finish a purchase after 3-D Secure",
        summary="Settle a purchase once stripe.confirmCardPayment has finished on the page.",
        description="Send after `stripe.confirmCardPayment(clientSecret)` resolves (whatever it "
        "resolved with). The service re-reads the PaymentIntent from Stripe and answers with "
        "the purchase's outcome; sending it again is harmless.",
        tag="shop",
        request=(Example("confirm-purchase", {"transactionId": TX_ID}),),
        success={"purchase-request-resp-success": (Example("paid", _outcome(SAMPLE_PURCHASE)),)},
        failures=(
            ("not_found", "No such purchase for this fan."),
            (
                "authentication_incomplete",
                "3-D Secure is not finished yet: let stripe.confirmCardPayment complete first.",
            ),
            (
                "payment_intent_authentication_failure",
                '3-D Secure failed (with `transactionId` and `status: "failed"`).',
            ),
            ("card_declined", "Declined after authentication (or another decline code)."),
            *COMMON_FAILURES,
        ),
        failure_examples=(
            Example("not finished", _failure(AuthenticationIncomplete())),
            Example(
                "authentication failed",
                _outcome(
                    replace(
                        _DECLINED,
                        failure_code="payment_intent_authentication_failure",
                        failure_message="The provided PaymentMethod has failed authentication.",
                    )
                ),
            ),
        ),
    ),
    "get-user-purchases": ActionDoc(
        title="Purchase history",
        summary="The fan's purchases, newest first, a page at a time (use case C).",
        description="Each purchase shows the items' names and unit prices as they were when "
        "bought (later catalog changes do not rewrite history), its totals, the card's brand "
        "and last four, and its status (`pending`, `requires_action`, `succeeded`, `failed`, "
        "`canceled`, `refunded`). Pass `nextCursor` back as `cursor` for the next page; it is "
        "`null` on the last page.",
        tag="history",
        request=(
            Example("first page", {"limit": 20}),
            Example("next page", {"limit": 20, "cursor": _CURSOR}),
        ),
        success={
            "view-purchases-resp-success": (
                Example(
                    "one purchase",
                    {"purchases": [views.purchase_view(SAMPLE_PURCHASE)], "nextCursor": None},
                ),
            )
        },
        failures=(
            ("bad_request", "The cursor is not one this service gave out."),
            *COMMON_FAILURES,
        ),
    ),
}

CODES = {
    "bad_request": "The request is malformed or incomplete (the sentence says what).",
    "unknown_action": "The action is not one of the request actions.",
    "frame_too_large": f"The frame is over {MAX_FRAME_BYTES // 1024} KB.",
    "unauthorized": "`userId` / `cogId` is not the signed-in user.",
    "not_found": "No such card or purchase for this fan (also when it is another fan's).",
    "card_not_valid": "The card cannot be used: not the fan's, deleted, not live or expired.",
    "card_checks_failed": "Stripe's CVC or postal-code check failed.",
    "card_declined": "The bank declined; other Stripe decline codes come through as they are.",
    "item_unavailable": "An item does not exist or is no longer on sale.",
    "price_mismatch": "A price changed since get-items: reload the items.",
    "request_id_reused": "The requestId was already used for a different cart.",
    "authentication_incomplete": "3-D Secure is not finished yet.",
    "payment_intent_authentication_failure": "3-D Secure failed.",
    "payment_processing": "Stripe has not answered yet: not a failure, the outcome follows.",
    "payment_rejected": "Stripe refused the request (not a decline).",
    "internal_error": "Something broke on our side; retrying never charges twice.",
}
"""Every failure code the protocol uses, in general terms (pages say when, per action)."""

ERROR_EXAMPLES = (
    Example(
        "unknown action",
        _failure(UnknownAction(f"Unknown action. Known: {', '.join(sorted(ROUTES))}.")),
    ),
    Example("invalid message", _failure(BadRequest("Invalid message: cardId: Field required."))),
    Example("too large", _failure(FrameTooLarge())),
)
ERROR_CODES = (
    ("bad_request", "Not JSON, not an object, a bad `requestId`, or a missing/mistyped field."),
    ("unknown_action", "The action is not one of the request actions."),
    ("frame_too_large", f"The frame is over {MAX_FRAME_BYTES // 1024} KB."),
)
UNAUTHORIZED_EXAMPLE = _failure(Unauthorized("userId/cogId do not match the signed-in user."))

FIELD_NOTES = {
    "userId": "Optional (the original page sends it). Must be the signed-in user, the token's "
    "subject, or the reply is `unauthorized`; never trusted on its own.",
    "cogId": "Optional, the Cognito user id; same rule as `userId`.",
    "stripePayment": "The PaymentMethod Stripe.js created on the page: the object (only its "
    "`id` is read) or its `pm_...` id. The service re-reads it at Stripe.",
    "setupIntentId": "The SetupIntent the page confirmed with stripe.confirmCardSetup.",
    "cardId": "A wallet card's `id` (from get-user-credit-card).",
    "saveCard": "With `stripePayment`: also save the card to the wallet.",
    "items": "The cart.",
    "item_id": "An `itemId` from get-items.",
    "price_cents": "The price the page showed, integer cents; must equal the catalog price "
    "(else `price_mismatch`). The catalog price is what is charged.",
    "quantity": "How many.",
    "transactionId": "The `transactionId` of the get-payment-intent reply.",
    "limit": "Purchases per page.",
    "cursor": "The `nextCursor` of the previous page (`nextCursor` is accepted as the name too).",
    "id": "The PaymentMethod id.",
}
MODEL_NOTES = {
    "Empty": "No fields needed (`userId` / `cogId` may be sent).",
    "CreatePaymentMethod": "Send exactly one of `stripePayment` and `setupIntentId`.",
    "PurchaseRequest": "Send exactly one of `cardId` and `stripePayment`.",
}

OVERVIEW = f"""\
couchpay is the payment service of couchtour.tv: a wallet of saved cards, purchases (tickets, \
meet-and-greets, merch) with a saved card or a card typed in once, and purchase history. \
Card numbers never reach it: the page hands them to Stripe (Stripe.js / Elements) and sends \
couchpay Stripe ids only.

**Connecting.** One WebSocket per page: `ws://HOST/ws?token=JWT` locally \
(`couchpay dev-token USER` mints a token), `wss://API/STAGE?token=JWT` on AWS (a Cognito \
user-pool token). The token's subject is the user; a connection without a valid token is \
refused (close code 4401 / HTTP 403).

**Frames.** JSON text frames of at most {MAX_FRAME_BYTES // 1024} KB. A request is \
`{{"action", "message", "requestId"}}`; `requestId` (1-128 characters) is optional except on \
`purchase-request`, where it is the idempotency key. Every reply is \
`{{"action", "message", "requestId"}}` and echoes the request's `requestId` (null if it had \
none): match replies to requests by `requestId`, not by order. Unknown fields in a message are \
ignored; known fields are checked strictly (a string where a number belongs is an error, never \
converted). Replies may gain fields: ignore what you do not know.

**Failures.** A failed request is answered with its action's failure reply; every failure \
message is `{{"code", "error"}}`: a stable snake_case `code` to branch on and a sentence for \
the user. A frame that is not a valid request at all (not JSON, unknown action, too large, a \
missing or mistyped field) is answered with action `error` and changes nothing.

**Pushed replies.** When Stripe settles a purchase later (a webhook), the fan's open \
connections receive `purchase-request-resp-success` or `purchase-request-resp-failure` with \
the purchase's original `requestId`, without having asked.

**Money.** Integer cents everywhere, in the purchase's `currency` (lower-case ISO code)."""


# --- the document -----------------------------------------------------------------------------
def request_models() -> dict[str, type[BaseModel]]:
    return {action: route.model for action, route in ROUTES.items()}


def _reply_models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    for models in reply_models.REPLY_MODELS.values():
        for model in models if isinstance(models, tuple) else (models,):
            if model not in seen:
                seen.append(model)
    return seen


def _schemas() -> dict[str, Any]:
    inputs: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for model in [*request_models().values(), *_reply_models()]:
        if (model, "validation") not in inputs:
            inputs.append((model, "validation"))
    _, top = models_json_schema(inputs, ref_template=SCHEMA_REF, by_alias=True)
    schemas: dict[str, Any] = top.get("$defs", {})
    request_names = _model_names(request_models().values(), schemas)
    for name, schema in schemas.items():
        schema.pop("additionalProperties", None)  # replies may gain fields: documented so
        if name in MODEL_NOTES:
            schema["description"] = MODEL_NOTES[name]
        for prop_name, prop in schema.get("properties", {}).items():
            prop.pop("title", None)
            if name in request_names and "description" not in prop and prop_name in FIELD_NOTES:
                prop["description"] = FIELD_NOTES[prop_name]
    return dict(sorted(schemas.items()))


def _model_names(models: Any, schemas: dict[str, Any]) -> set[str]:
    """Request models and every schema they refer to."""
    names: set[str] = {m.__name__ for m in models}
    pending = list(names)
    while pending:
        for ref in _refs(schemas.get(pending.pop(), {})):
            if ref not in names:
                names.add(ref)
                pending.append(ref)
    return names


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.append(ref.rsplit("/", 1)[-1])
        for value in node.values():
            found.extend(_refs(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_refs(value))
    return found


def _ref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMA_REF.format(model=name)}


def _message_schema(action: str) -> dict[str, Any]:
    models = reply_models.REPLY_MODELS[action]
    if isinstance(models, tuple):
        return {"anyOf": [_ref(m.__name__) for m in models]}
    return _ref(models.__name__)


def _request_payload(action: str, schemas: dict[str, Any]) -> dict[str, Any]:
    model = ROUTES[action].model.__name__
    required = ["action"]
    if schemas[model].get("required"):
        required.append("message")
    rid: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 128}
    if action == "purchase-request":
        required.append("requestId")
        rid["description"] = "Required: the idempotency key (a new UUID per purchase)."
    else:
        rid["description"] = "Optional; echoed in the reply."
    return {
        "type": "object",
        "required": required,
        "properties": {
            "action": {"type": "string", "const": action},
            "message": {**_ref(model), "description": "Defaults to {} when left out."},
            "requestId": rid,
        },
    }


def _reply_payload(action: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["action", "message", "requestId"],
        "properties": {
            "action": {"type": "string", "const": action},
            "message": _message_schema(action),
            "requestId": {
                "type": ["string", "null"],
                "description": "The request's requestId (null if it had none).",
            },
        },
    }


def _envelope(action: str, message: dict[str, Any], request_id: str | None) -> dict[str, Any]:
    return {"action": action, "message": message, "requestId": request_id}


def reply_examples() -> dict[str, list[Example]]:
    """Every example reply message, by reply action."""
    out: dict[str, list[Example]] = {}
    for action, doc in ACTIONS.items():
        for reply_action, examples in doc.success.items():
            out.setdefault(reply_action, []).extend(examples)
        failure = ROUTES[action].failure
        out.setdefault(failure, []).extend(doc.failure_examples)
    for action in ACTIONS:
        failure = ROUTES[action].failure
        if not out[failure]:
            out[failure].append(Example("unauthorized", UNAUTHORIZED_EXAMPLE))
    out[ERROR_ACTION] = list(ERROR_EXAMPLES)
    return out


def check_examples() -> None:
    """Every example must be valid against the models (so the docs never show a lie)."""
    for action, doc in ACTIONS.items():
        for ex in doc.request:
            ROUTES[action].model.model_validate_json(json.dumps(ex.message))
    for reply_action, examples in reply_examples().items():
        for ex in examples:
            frame = json.dumps(_envelope(reply_action, ex.message, REQUEST_ID))
            reply_models.validate_reply(frame)


def _check_coverage() -> None:
    if set(ACTIONS) != set(ROUTES):
        differ = sorted(set(ACTIONS) ^ set(ROUTES))
        raise RuntimeError(f"asyncapi.ACTIONS must describe exactly the routes: {differ}")
    for action, doc in ACTIONS.items():
        unknown = [code for code, _ in doc.failures if code not in CODES]
        if unknown:
            raise RuntimeError(f"{action}: add {unknown} to asyncapi.CODES")
        if tuple(doc.success) != reply_models.SUCCESS_REPLIES[action]:
            raise RuntimeError(f"{action}: documented replies differ from SUCCESS_REPLIES")


def build_document() -> dict[str, Any]:
    _check_coverage()
    check_examples()
    schemas = _schemas()
    examples = reply_examples()
    messages: dict[str, Any] = {}
    for action, doc in ACTIONS.items():
        messages[action] = {
            "name": action,
            "title": doc.title,
            "summary": doc.summary,
            "payload": _request_payload(action, schemas),
            "examples": [
                {"name": ex.name, "payload": _envelope(action, ex.message, REQUEST_ID)}
                for ex in doc.request
            ],
        }
    for reply_action in reply_models.REPLY_MODELS:
        messages[reply_action] = {
            "name": reply_action,
            "title": reply_action,
            "summary": _reply_summary(reply_action),
            "payload": _reply_payload(reply_action),
            "examples": [
                {
                    "name": ex.name,
                    **({"summary": ex.summary} if ex.summary else {}),
                    "payload": _envelope(reply_action, ex.message, REQUEST_ID),
                }
                for ex in examples.get(reply_action, [])
            ],
        }
    channel_ref = {"$ref": f"#/channels/{CHANNEL}"}

    def msg_ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/channels/{CHANNEL}/messages/{name}"}

    operations: dict[str, Any] = {}
    for action, doc in ACTIONS.items():
        replies = [*reply_models.SUCCESS_REPLIES[action], ROUTES[action].failure, ERROR_ACTION]
        operations[action] = {
            "action": "receive",
            "channel": channel_ref,
            "title": doc.title,
            "summary": doc.summary,
            "description": doc.description,
            "tags": [{"name": doc.tag}],
            "messages": [msg_ref(action)],
            "reply": {"channel": channel_ref, "messages": [msg_ref(r) for r in replies]},
        }
    operations[PUSH_OPERATION] = {
        "action": "send",
        "channel": channel_ref,
        "title": "Purchase settled",
        "summary": "Pushed when a Stripe webhook settles a purchase the fan made.",
        "description": "Sent to every open connection of the fan, unasked, with the purchase's "
        "original `requestId`: the same success or failure reply `purchase-request` would "
        "give. Expect it after a `payment_processing` reply or a 3-D Secure flow; it may "
        "arrive more than once or after you already had the answer.",
        "tags": [{"name": "shop"}],
        "messages": [
            msg_ref("purchase-request-resp-success"),
            msg_ref("purchase-request-resp-failure"),
        ],
    }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "couchpay WebSocket API",
            "version": __version__,
            "description": OVERVIEW,
            "tags": [
                {"name": "shop", "description": "Items, purchases and 3-D Secure."},
                {"name": "wallet", "description": "Saved cards."},
                {"name": "history", "description": "Past purchases."},
            ],
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:8000",
                "protocol": "ws",
                "pathname": "/ws",
                "description": "`couchpay serve` on your machine (offline: an embedded "
                "localstripe stands in for Stripe).",
                "security": [{"$ref": "#/components/securitySchemes/token"}],
            },
            "aws": {
                "host": "{apiId}.execute-api.{region}.amazonaws.com",
                "protocol": "wss",
                "pathname": "/{stage}",
                "description": "API Gateway WebSocket API in front of the Lambda functions.",
                "variables": {
                    "apiId": {"description": "The API Gateway API id."},
                    "region": {"description": "The AWS region.", "examples": ["us-east-1"]},
                    "stage": {"description": "The deployment stage.", "examples": ["dev"]},
                },
                "security": [{"$ref": "#/components/securitySchemes/token"}],
            },
        },
        "channels": {
            CHANNEL: {
                "address": None,
                "title": "The WebSocket connection",
                "description": "Everything happens on the one connection the page opens at the "
                "server's URL: requests go in, replies (and pushed outcomes) come out.",
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
                "bindings": {
                    "ws": {
                        "query": {
                            "type": "object",
                            "required": ["token"],
                            "properties": {
                                "token": {
                                    "type": "string",
                                    "description": "The sign-in JWT (browsers cannot set "
                                    "headers on a WebSocket).",
                                }
                            },
                        },
                        "bindingVersion": "0.1.0",
                    }
                },
            }
        },
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "token": {
                    "type": "httpApiKey",
                    "name": "token",
                    "in": "query",
                    "description": "A JWT: a Cognito user-pool token in production, a "
                    "`couchpay dev-token` locally. Its subject is the user.",
                }
            },
        },
    }


def _reply_summary(reply_action: str) -> str:
    if reply_action == ERROR_ACTION:
        return "The frame was not a valid request (nothing was done)."
    answers = [a for a, r in reply_models.SUCCESS_REPLIES.items() if reply_action in r]
    if answers:
        return "Success reply to " + " and ".join(f"`{a}`" for a in answers) + "."
    failing = [a for a, route in ROUTES.items() if route.failure == reply_action]
    return "Failure reply to " + " and ".join(f"`{a}`" for a in failing) + "."


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- readable pages ---------------------------------------------------------------------------
def render_docs(document: dict[str, Any] | None = None) -> dict[str, str]:
    """Every generated file, relative to the docs directory -> its text."""
    doc = document if document is not None else build_document()
    files = {"asyncapi.json": dumps(doc), "README.md": _index(doc)}
    for action in ACTIONS:
        files[f"actions/{action}.md"] = _action_page(doc, action)
    return files


def write_docs(out_dir: Path) -> list[Path]:
    """Write the generated files under ``out_dir``; remove action pages no longer generated."""
    files = render_docs()
    written = []
    for rel, text in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in sorted((out_dir / "actions").glob("*.md")):
        if f"actions/{stale.name}" not in files:
            stale.unlink()
    return written


def stale_docs(out_dir: Path) -> list[str]:
    """Generated files that are missing or differ under ``out_dir`` (and stray action pages)."""
    files = render_docs()
    wrong = [
        rel
        for rel, text in files.items()
        if not (out_dir / rel).is_file() or (out_dir / rel).read_text(encoding="utf-8") != text
    ]
    wrong += [
        f"actions/{p.name} (not generated any more)"
        for p in sorted((out_dir / "actions").glob("*.md"))
        if f"actions/{p.name}" not in files
    ]
    return wrong


_GENERATED = (
    f"<!-- Generated from the code by `{REGENERATE}`: edit src/couchpay/asyncapi.py, "
    "messages.py or reply_models.py, not this file. -->\n\n"
)


def _index(doc: dict[str, Any]) -> str:
    lines = [
        _GENERATED + "# The couchpay WebSocket protocol",
        "",
        f"AsyncAPI {ASYNCAPI_VERSION} document: [asyncapi.json](asyncapi.json) "
        f"(protocol version {doc['info']['version']}). Open it in "
        "[AsyncAPI Studio](https://studio.asyncapi.com/) or generate a client from it.",
        "",
        doc["info"]["description"],
        "",
        "## Actions",
        "",
        "| request | what for | success reply | failure reply |",
        "|---|---|---|---|",
    ]
    for action, adoc in ACTIONS.items():
        success = ", ".join(f"`{r}`" for r in reply_models.SUCCESS_REPLIES[action])
        lines.append(
            f"| [`{action}`](actions/{action}.md) | {adoc.summary} | {success} "
            f"| `{ROUTES[action].failure}` |"
        )
    lines += [
        "",
        "## Pushed: purchase settled",
        "",
        doc["operations"][PUSH_OPERATION]["description"],
        "",
        "## Invalid frames: `error`",
        "",
        "Any frame that is not a valid request is answered with action `error` "
        "(`requestId` echoed when it could be read) and changes nothing.",
        "",
        "| code | when |",
        "|---|---|",
        *(f"| `{code}` | {when} |" for code, when in ERROR_CODES),
        "",
        "```json",
        _pretty(_envelope(ERROR_ACTION, ERROR_EXAMPLES[0].message, None)),
        "```",
        "",
        "## Failure codes",
        "",
        "| code | meaning | actions |",
        "|---|---|---|",
    ]
    used: dict[str, list[str]] = {}
    for action, adoc in ACTIONS.items():
        for code, _ in adoc.failures:
            used.setdefault(code, []).append(f"`{action}`")
    for code, _ in ERROR_CODES:
        used.setdefault(code, []).append("any (as `error`)")
    for code in sorted(used):
        where = "all" if len(used[code]) == len(ACTIONS) else ", ".join(used[code])
        lines.append(f"| `{code}` | {CODES[code]} | {where} |")
    lines.append("")
    return "\n".join(lines)


def _action_page(doc: dict[str, Any], action: str) -> str:
    adoc = ACTIONS[action]
    schemas = doc["components"]["schemas"]
    model = ROUTES[action].model.__name__
    rid = "required (the idempotency key)" if action == "purchase-request" else "optional"
    lines = [
        _GENERATED + f"# `{action}`: {adoc.title}",
        "",
        f"{adoc.summary}",
        "",
        adoc.description,
        "",
        "## Request",
        "",
        f'`{{"action": "{action}", "message": {{...}}, "requestId": "..."}}`; '
        f"`requestId` is {rid}.",
        "",
    ]
    refs: list[str] = []
    lines += _fields(schemas, model, refs)
    for ex in adoc.request:
        lines += _example(ex, _envelope(action, ex.message, REQUEST_ID))
    lines += ["## Success", ""]
    for reply_action, examples in adoc.success.items():
        lines += [f"### `{reply_action}`", ""]
        lines += _fields_for_reply(schemas, reply_action, refs)
        for ex in examples:
            lines += _example(ex, _envelope(reply_action, ex.message, REQUEST_ID))
    failure = ROUTES[action].failure
    lines += [
        "## Failure",
        "",
        f'Action `{failure}`, message `{{"code", "error"}}`'
        + (
            "; once the purchase is recorded also `transactionId` and `status`."
            if failure == "purchase-request-resp-failure"
            else "."
        ),
        "",
        "| code | when |",
        "|---|---|",
        *(f"| `{code}` | {when} |" for code, when in adoc.failures),
        "",
        "A frame that is not a valid request (bad JSON, a missing or mistyped field) is "
        "answered with action `error` instead; see the [index](../README.md).",
        "",
    ]
    examples = adoc.failure_examples or (Example("unauthorized", UNAUTHORIZED_EXAMPLE),)
    for ex in examples:
        lines += _example(ex, _envelope(failure, ex.message, REQUEST_ID))
    done: set[str] = set()
    if refs:
        lines += ["## Types", ""]
    while refs:
        name = refs.pop(0)
        if name in done:
            continue
        done.add(name)
        lines += [f"### `{name}`", ""]
        lines += _fields(schemas, name, refs)
    return "\n".join(lines).rstrip() + "\n"


def _fields_for_reply(schemas: dict[str, Any], reply_action: str, refs: list[str]) -> list[str]:
    models = reply_models.REPLY_MODELS[reply_action]
    names = [m.__name__ for m in (models if isinstance(models, tuple) else (models,))]
    out: list[str] = []
    for name in names:
        out += _fields(schemas, name, refs)
    return out


def _fields(schemas: dict[str, Any], name: str, refs: list[str]) -> list[str]:
    schema = schemas[name]
    out = []
    if schema.get("description"):
        out += [schema["description"].replace("\n", " "), ""]
    if "enum" in schema:
        out += ["One of " + ", ".join(f"`{json.dumps(v)}`" for v in schema["enum"]) + ".", ""]
    props = schema.get("properties", {})
    if not props:
        return out
    required = set(schema.get("required", []))
    out += ["| field | type | required | notes |", "|---|---|---|---|"]
    for prop_name, prop in props.items():
        out.append(
            f"| `{prop_name}` | {_type(prop, refs)} | {'yes' if prop_name in required else 'no'} "
            f"| {_notes(prop)} |"
        )
    out.append("")
    return out


def _type(s: dict[str, Any], refs: list[str]) -> str:
    if "$ref" in s:
        name = s["$ref"].rsplit("/", 1)[-1]
        refs.append(name)
        return f"`{name}`"
    if "const" in s:
        return f"`{json.dumps(s['const'])}`"
    if "enum" in s:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in s["enum"])
    for key in ("anyOf", "oneOf"):
        if key in s:
            return " or ".join(_type(option, refs) for option in s[key])
    kind = s.get("type")
    if kind == "array":
        return f"array of {_type(s.get('items', {}), refs)}"
    if isinstance(kind, list):
        return " or ".join(kind)
    if s.get("format") == "date-time":
        return "string (ISO 8601 date-time)"
    return str(kind or "any")


def _notes(s: dict[str, Any]) -> str:
    parts = [s["description"].replace("\n", " ")] if s.get("description") else []
    constraints = _constraints(s)
    for option in s.get("anyOf", []):
        constraints += _constraints(option)
    if constraints:
        text = "; ".join(constraints)
        parts.append(text[0].upper() + text[1:] + ".")
    if "default" in s and s["default"] is not None:
        parts.append(f"Default `{json.dumps(s['default'])}`.")
    return " ".join(parts).replace("|", "\\|")


def _constraints(s: dict[str, Any]) -> list[str]:
    out = []
    if "minLength" in s or "maxLength" in s:
        out.append(f"{s.get('minLength', 0)} to {s.get('maxLength', 'any number of')} characters")
    if "minimum" in s or "maximum" in s:
        low, high = s.get("minimum"), s.get("maximum")
        out.append(f"{low} to {high}" if high is not None else f"at least {low}")
    if "minItems" in s or "maxItems" in s:
        out.append(f"{s.get('minItems', 0)} to {s.get('maxItems', 'any number of')} entries")
    if "pattern" in s:
        out.append(f"matches `{s['pattern']}`")
    return out


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _example(ex: Example, envelope: dict[str, Any]) -> list[str]:
    head = f"Example: {ex.name}" + (f". {ex.summary}" if ex.summary else "")
    return [head, "", "```json", _pretty(envelope), "```", ""]
