"""The prose of the protocol document: every failure code, the envelope's errors, field and
model notes, and the overview. (What each action is for is in ``actions``; the samples in
``samples``.)"""

from __future__ import annotations

from couchpay.domain.errors import BadRequest, FrameTooLarge, Unauthorized, UnknownAction
from couchpay.wire.asyncapi.actions import ACTIONS
from couchpay.wire.asyncapi.samples import (
    ASYNCAPI_VERSION,
    CHANNEL,
    PUSH_OPERATION,
    REGENERATE,
    REQUEST_ID,
    SCHEMA_REF,
    Example,
    _failure,
)
from couchpay.wire.protocol import MAX_FRAME_BYTES
from couchpay.wire.routes import ROUTES

__all__ = [
    "ACTIONS",
    "ASYNCAPI_VERSION",
    "CHANNEL",
    "PUSH_OPERATION",
    "REGENERATE",
    "REQUEST_ID",
    "SCHEMA_REF",
    "Example",
]

CODES = {
    "bad_request": "The request is malformed or incomplete (the sentence says what).",
    "unknown_action": "The action is not one of the request actions.",
    "frame_too_large": f"The frame is over {MAX_FRAME_BYTES // 1024} KB.",
    "reply_too_large": "The answer would be over 128 KB (API Gateway's cap); ask for less.",
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
    "sold_out": "A limited item (a meet-and-greet slot, a numbered poster) has no units left.",
    "busy": "The line to Stripe is full or too long: nothing was charged; try again later.",
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
    ("reply_too_large", "The answer would be over 128 KB (API Gateway's cap); ask for less."),
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
refused (close code 4401 / HTTP 403), and so is one more socket than a user may hold at once \
(HTTP 403 locally, 429 on AWS); HTTP 503 means sign-in cannot be checked right now (retry \
later). When the token expires the server closes the socket (close code 4001, reason \
`token expired`): sign in again and reconnect.

**Limits per user.** Across all of a user's sockets: frames per second (`error` with code \
`rate_limited`), and the actions that create objects at Stripe (`create-setup-intent`, \
`create-payment-method`, `purchase-request`) per minute, answered with the action's failure \
reply and code `rate_limited`; nothing is done, retry after a minute.

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

**Showtime.** When many fans pay at once, purchases wait in line for Stripe: \
`purchase-request-resp-queued` `{{transactionId, position, etaSeconds}}` comes at once and again \
as the line moves, then the outcome, all with the purchase's `requestId`.

**Money.** Integer cents everywhere, in the purchase's `currency` (lower-case ISO code)."""
