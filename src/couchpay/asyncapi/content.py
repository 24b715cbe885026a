"""What each action is for: the samples, the per-action notes and the failure codes the
document and the pages are made from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from couchpay import views
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
from couchpay.domain.shipping import ShippingAddress
from couchpay.domain.statuses import PurchaseStatus
from couchpay.protocol import MAX_FRAME_BYTES, error_message
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
    shipping_address=ShippingAddress(
        name="Ada Lovelace",
        line1="12 St James's Square",
        city="London",
        postal_code="SW1Y 4JH",
        country="GB",
    ),
    receipt_email="ada@example.com",
)
_ADDRESS = views.address_view(SAMPLE_PURCHASE.shipping_address)
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
            Example(
                "with a wallet card, shipped",
                {"cardId": CARD_ID, "items": _CART, "shippingAddress": _ADDRESS},
            ),
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
            ("request_id_reused", "This `requestId` was used for a different cart or address."),
            (
                "shipping_address_required",
                "An item ships (`shippingCents` > 0) and no `shippingAddress` was sent.",
            ),
            (
                "amount_too_small",
                "The total is under Stripe's minimum charge for the currency (50 cents in USD).",
            ),
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
    "get-purchase": ActionDoc(
        title="One purchase (a receipt)",
        summary="Everything a receipt shows, by transactionId, or by the requestId that made it.",
        description="Send exactly one of `transactionId` and `requestId`. By `requestId` is how "
        "a page that sent `purchase-request` and then lost the reply (reload, dropped "
        "connection, timeout) finds the order's outcome; `not_found` then means the order "
        "never reached the service, so sending it again with the same `requestId` is safe. "
        "The purchase has the same shape as a history row: items with names, unit prices and "
        "per-unit shipping, the breakdown, the card's brand and last four, the shipping "
        "address, the status, the amount refunded, the receipt email and the dates.",
        tag="history",
        request=(
            Example("by transaction", {"transactionId": TX_ID}),
            Example("by request", {"requestId": REQUEST_ID}),
        ),
        success={
            "get-purchase-resp-success": (
                Example("paid", {"purchase": views.purchase_view(SAMPLE_PURCHASE)}),
            )
        },
        failures=(
            ("bad_request", "Neither or both of `transactionId` and `requestId`."),
            ("not_found", "No such purchase for this fan (also when it is another fan's)."),
            *COMMON_FAILURES,
        ),
        failure_examples=(Example("unknown", _failure(NotFound("No such purchase."))),),
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
    "shipping_address_required": "An item in the cart ships: send a shippingAddress.",
    "amount_too_small": "The total is under Stripe's minimum charge for the currency.",
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
    "saveCard": "With `stripePayment`: save the card to the wallet once the payment has "
    "succeeded (never a declined card, nor one that failed 3-D Secure).",
    "shippingAddress": "Where physical items go; required when any item has `shippingCents` "
    "> 0. Sent to Stripe as the PaymentIntent's `shipping`; part of what `requestId` stands "
    "for.",
    "requestId": "The `requestId` of the purchase-request that made the purchase.",
    "name": "The recipient's name.",
    "line1": "Street address.",
    "line2": "Flat, suite, building (optional).",
    "city": "City or town.",
    "state": "State, county or region (optional).",
    "postalCode": "Postal or ZIP code.",
    "country": "ISO 3166-1 alpha-2 code (US, GB, DE, ...), checked against the ISO list.",
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
    "GetPurchase": "Send exactly one of `transactionId` and `requestId`.",
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
