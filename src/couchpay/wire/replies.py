"""The replies the service sends, one model per shape: ``views.py`` builds them from records,
``protocol.py`` serializes them, and the AsyncAPI document (``wire.asyncapi``) is generated from
them. There is no second description of a reply anywhere.

Invariants: extra keys are forbidden and every key is required (a reply always carries every
field, null when unset); tests/unit/test_reply_models.py also feeds the frames that reach the wire
back through ``wire.asyncapi.checks.validate_reply``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from couchpay.domain.catalog import ItemKind
from couchpay.domain.statuses import CardStatus, PurchaseStatus
from couchpay.wire.entitlement_replies import EntitlementsSuccess
from couchpay.wire.reply_base import Reply, Timestamp


# failures ------------------------------------------------------------------------------------
class Failure(Reply):
    """Every failure: a stable snake_case code and a sentence that can be shown to the user."""

    code: str = Field(
        description="Stable snake_case code, e.g. bad_request, not_found, card_not_valid.",
        examples=["not_found"],
    )
    error: str = Field(description="A human sentence; safe to show to the user.")


class PurchaseOutcomeFailure(Reply):
    """A purchase that was recorded but did not succeed: declined or canceled, or still being
    processed (`payment_processing` with status `pending` is *not* a failure: nobody is charged
    twice, and the outcome is pushed when Stripe settles it)."""

    transaction_id: str = Field(alias="transactionId", description="The purchase's id.")
    status: Literal[
        PurchaseStatus.QUEUED,
        PurchaseStatus.PENDING,
        PurchaseStatus.FAILED,
        PurchaseStatus.CANCELED,
    ]
    code: str = Field(
        description="payment_processing while pending; otherwise Stripe's decline code, e.g. "
        "card_declined, payment_intent_authentication_failure."
    )
    error: str


# catalog -------------------------------------------------------------------------------------
class ItemView(Reply):
    item_id: str = Field(alias="itemId", description="Send it back as item_id.")
    name: str
    kind: ItemKind = Field(description="Only merch ships.")
    price_cents: int = Field(alias="priceCents", ge=0, description="Integer cents.")
    shipping_cents: int = Field(alias="shippingCents", ge=0, description="Per unit; merch only.")
    description: str = Field(description="What it is, for the shop (may be empty).")
    show_starts_at: Timestamp | None = Field(
        alias="showStartsAt", description="Livestreams: when the show starts (UTC); else null."
    )
    remaining: int | None = Field(
        ge=0,
        description="Units left of a limited item (meet-and-greet slots, numbered posters); "
        "null when unlimited. 0: sold out (buying it is `sold_out`).",
    )


class Rate(Reply):
    numerator: int = Field(ge=0)
    denominator: int = Field(gt=0)


class GetItemsSuccess(Reply):
    items: list[ItemView] = Field(description="Items on sale: by price, then name.")
    currency: str = Field(description="ISO currency of every amount, lower case.", examples=["usd"])
    streaming_rate: Rate = Field(
        alias="streamingRate",
        description="The streaming-cost rate as an exact fraction (10 % is 1/10): streaming "
        "cost = subtotal x rate, rounded half up to the cent. Use it to show the same total "
        "the service will charge.",
    )


# cards ---------------------------------------------------------------------------------------
class SetupIntentCreated(Reply):
    client_secret: str = Field(
        alias="clientSecret", description="Pass to stripe.confirmCardSetup() on the page."
    )


class CardView(Reply):
    id: str = Field(description="The card's id (ours, not Stripe's); use it as cardId.")
    last_four: str = Field(alias="lastFour", description="The card number's last four digits.")
    brand: str = Field(description="Stripe's brand: visa, mastercard, amex, ...")
    exp_month: int = Field(alias="expMonth", ge=1, le=12)
    exp_year: int = Field(alias="expYear", description="Four digits.")
    name_on_card: str | None = Field(alias="nameOnCard", description="As Stripe has it, if any.")
    status: CardStatus = Field(
        description="`live` can be charged; `expired` is past its month; `cancelled` was "
        "deleted; `error` / `fail_checks` were refused when saved."
    )
    is_default: bool = Field(alias="isDefault", description="The fan's default card.")


class CardSaved(CardView):
    uuid: str = Field(description="Same as id (the name the original page reads).")


class WalletSuccess(Reply):
    cards: list[CardView] = Field(
        description="Usable cards only (active, live, not expired); the default card first."
    )


class DefaultCardSet(Reply):
    id: str
    is_default: Literal[True] = Field(alias="isDefault")


class CardDeleted(Reply):
    id: str
    active: Literal[False]
    status: Literal[CardStatus.CANCELLED]


# purchases -----------------------------------------------------------------------------------
class CardSummary(Reply):
    brand: str
    last_four: str = Field(alias="lastFour")


class PurchaseTotals(Reply):
    """Integer cents: total = subtotal + streamingCost + shipping."""

    transaction_id: str = Field(alias="transactionId", description="The purchase's id.")
    status: PurchaseStatus
    total_cents: int = Field(alias="totalCents", ge=0)
    subtotal_cents: int = Field(alias="subtotalCents", ge=0)
    streaming_cost_cents: int = Field(alias="streamingCostCents", ge=0)
    shipping_cents: int = Field(alias="shippingCents", ge=0)
    currency: str = Field(description="ISO currency code, lower case (usd).")
    card: CardSummary = Field(description="The card charged.")


class PurchaseSucceeded(PurchaseTotals):
    status: Literal[PurchaseStatus.SUCCEEDED, PurchaseStatus.REFUNDED]


class PaymentIntentNeeded(Reply):
    """3-D Secure is needed: call stripe.confirmCardPayment(clientSecret) on the page, then
    send confirm-purchase with the transactionId."""

    transaction_id: str = Field(
        alias="transactionId", description="Send it in confirm-purchase afterwards."
    )
    client_secret: str | None = Field(
        alias="clientSecret", description="For stripe.confirmCardPayment(clientSecret)."
    )
    payment_method: str = Field(alias="paymentMethod", description="The Stripe PaymentMethod id.")


class PurchaseQueued(Reply):
    """The purchase is recorded and waits its turn for Stripe (showtime: Stripe takes only so
    many payments a second). Sent at once and again as the line moves; the final
    `purchase-request-resp-success` / `get-payment-intent` / `purchase-request-resp-failure`
    follows with the same `requestId`. Nothing is charged while waiting. Re-sending the same
    `requestId` (after a reconnect, say) keeps the place."""

    transaction_id: str = Field(alias="transactionId", description="The purchase's id.")
    position: int = Field(
        ge=0, description="1 is next in line; 0 means it is with Stripe right now."
    )
    eta_seconds: int = Field(
        alias="etaSeconds", ge=0, description="About how many seconds until Stripe answers."
    )


class PurchasedItem(Reply):
    """What the item was called and cost when it was bought (later catalog changes do not
    change history)."""

    item_id: str = Field(alias="itemId")
    name: str
    unit_price_cents: int = Field(alias="unitPriceCents", ge=0)
    quantity: int = Field(ge=1)
    shipping_cents: int = Field(alias="shippingCents", ge=0, description="Per unit.")


class ShippingAddressView(Reply):
    name: str
    line1: str
    line2: str | None
    city: str
    state: str | None
    postal_code: str = Field(alias="postalCode")
    country: str = Field(description="ISO 3166-1 alpha-2.", examples=["GB"])


class PurchaseView(PurchaseTotals):
    request_id: str = Field(alias="requestId", description="The purchase-request's requestId.")
    created_at: Timestamp = Field(alias="createdAt")
    updated_at: Timestamp = Field(alias="updatedAt")
    items: list[PurchasedItem]
    failure_code: str | None = Field(alias="failureCode", description="Set when failed.")
    failure_message: str | None = Field(alias="failureMessage", description="Set when failed.")
    refunded_cents: int = Field(alias="refundedCents", ge=0, description="Refunded so far.")
    shipping_address: ShippingAddressView | None = Field(
        alias="shippingAddress", description="Where it ships; null when nothing ships."
    )
    receipt_email: str | None = Field(
        alias="receiptEmail", description="Where Stripe emailed the receipt, if anywhere."
    )


class GetPurchaseSuccess(Reply):
    purchase: PurchaseView


class HistorySuccess(Reply):
    purchases: list[PurchaseView] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        alias="nextCursor", description="Send as cursor for the next page; null at the end."
    )


# which reply answers which request -----------------------------------------------------------
REPLY_MODELS: dict[str, type[BaseModel] | tuple[type[BaseModel], ...]] = {
    "get-items-resp-success": GetItemsSuccess,
    "get-items-resp-failure": Failure,
    "get-setup-intent": SetupIntentCreated,
    "create-setup-intent-resp-failure": Failure,
    "create-payment-method-resp-success": CardSaved,
    "create-payment-method-resp-error": Failure,
    "get-user-credit-card-resp-success": WalletSuccess,
    "get-user-credit-card-resp-failure": Failure,
    "set-default-card-resp-success": DefaultCardSet,
    "set-default-card-resp-failure": Failure,
    "delete-credit-card-resp-success": CardDeleted,
    "delete-credit-card-resp-failure": Failure,
    "purchase-request-resp-success": PurchaseSucceeded,
    "get-payment-intent": PaymentIntentNeeded,
    "purchase-request-resp-queued": PurchaseQueued,
    "purchase-request-resp-failure": (PurchaseOutcomeFailure, Failure),
    "view-purchases-resp-success": HistorySuccess,
    "view-purchases-resp-failure": Failure,
    "get-purchase-resp-success": GetPurchaseSuccess,
    "get-purchase-resp-failure": Failure,
    "get-user-entitlements-resp-success": EntitlementsSuccess,
    "get-user-entitlements-resp-failure": Failure,
    "error": Failure,
}
"""Reply action -> the model of its message (a tuple: one of these shapes)."""

SUCCESS_REPLIES: dict[str, tuple[str, ...]] = {
    "get-items": ("get-items-resp-success",),
    "create-setup-intent": ("get-setup-intent",),
    "create-payment-method": ("create-payment-method-resp-success",),
    "get-user-credit-card": ("get-user-credit-card-resp-success",),
    "set-default-card": ("set-default-card-resp-success",),
    "delete-credit-card": ("delete-credit-card-resp-success",),
    "purchase-request": (
        "purchase-request-resp-success",
        "get-payment-intent",
        "purchase-request-resp-queued",
    ),
    "confirm-purchase": ("purchase-request-resp-success",),
    "get-user-purchases": ("view-purchases-resp-success",),
    "get-purchase": ("get-purchase-resp-success",),
    "get-user-entitlements": ("get-user-entitlements-resp-success",),
}
"""Request action -> the reply actions it may succeed with (its failure action is in
``routes.ROUTES``; any request may also be answered ``error``)."""

ERROR_ACTION = "error"
