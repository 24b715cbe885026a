"""What the purchase actions are for (see ``actions``)."""

from __future__ import annotations

from dataclasses import replace

from couchpay.domain.catalog import DEMO_CATALOG
from couchpay.domain.errors import (
    AuthenticationIncomplete,
    ItemUnavailable,
    NotFound,
    PriceMismatch,
    RequestIdReused,
    SoldOut,
)
from couchpay.wire import views
from couchpay.wire.asyncapi.samples import (
    _ADDRESS,
    _BUSY,
    _CART,
    _CURSOR,
    _DECLINED,
    _NEEDS_3DS,
    _PENDING,
    CARD_ID,
    COMMON_FAILURES,
    PI_ID,
    PM_ID,
    REQUEST_ID,
    SAMPLE_PURCHASE,
    TX_ID,
    ActionDoc,
    Example,
    _failure,
    _outcome,
)

PURCHASE_ACTIONS: dict[str, ActionDoc] = {
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
        "page when Stripe settles it (see `purchase-settled`).\n\n"
        "**Showtime.** Stripe takes only so many payments a second. When a purchase cannot go "
        "to Stripe at once it waits in line, in arrival order: the reply is "
        "`purchase-request-resp-queued` `{transactionId, position, etaSeconds}`, sent again as "
        "the line moves, and then the final reply with the same `requestId` (pushed). Nothing is "
        "charged while waiting. Re-sending the same `requestId` (after a reconnect) keeps the "
        "place. A wait longer than the service allows, or a full line, is `busy`: final, "
        "nothing charged; try again later with a new `requestId`. A limited item (a "
        "meet-and-greet slot) that has no units left is `sold_out`, before anything is charged.",
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
            "purchase-request-resp-queued": (
                Example(
                    "in line",
                    views.body(views.queued_view(TX_ID, 120, 6)),
                    "120th in line, about 6 s; updates follow, then the outcome.",
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
            ("sold_out", "A limited item has no units left; nothing was recorded or charged."),
            (
                "busy",
                'With `status: "failed"`: the line to Stripe is full or the wait would be too '
                "long. Final; nothing was charged. Try again later with a new `requestId`.",
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
            Example("sold out", _failure(SoldOut("Sorry, Meet and greet is sold out."))),
            Example("busy", _outcome(_BUSY), "Recorded as failed; nothing was charged."),
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
                Example("paid", views.body(views.receipt_view(SAMPLE_PURCHASE))),
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
        "`null` on the last page. A page holds at most `limit` purchases, and fewer when more "
        "would not fit in one 128 KB message: follow `nextCursor`, never the count.",
        tag="history",
        request=(
            Example("first page", {"limit": 20}),
            Example("next page", {"limit": 20, "cursor": _CURSOR}),
        ),
        success={
            "view-purchases-resp-success": (
                Example(
                    "one purchase",
                    views.body(views.history_view([SAMPLE_PURCHASE], None)),
                ),
            )
        },
        failures=(
            ("bad_request", "The cursor is not one this service gave out."),
            *COMMON_FAILURES,
        ),
    ),
}
