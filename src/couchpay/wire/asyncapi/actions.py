"""What each action is for: title, prose, request examples, the replies (made by the real views
from the sample records) and the failure codes an integrator should expect."""

from __future__ import annotations

from couchpay.domain.catalog import DEMO_CATALOG
from couchpay.domain.errors import (
    CardChecksFailed,
    CardNotValid,
    NotFound,
)
from couchpay.domain.pricing import DEFAULT_STREAMING_RATE
from couchpay.wire import views
from couchpay.wire.asyncapi.entitlement_actions import ENTITLEMENT_ACTIONS
from couchpay.wire.asyncapi.purchase_actions import PURCHASE_ACTIONS
from couchpay.wire.asyncapi.samples import (
    _T,
    CARD_ID,
    COMMON_FAILURES,
    PAYMENT_FAILURES,
    PM_ID,
    SAMPLE_CARD,
    SETI_ID,
    ActionDoc,
    Example,
    _failure,
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
                    views.body(
                        views.catalog_view(list(DEMO_CATALOG), "usd", DEFAULT_STREAMING_RATE)
                    ),
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
                    views.body(views.card_saved(SAMPLE_CARD, _T, CARD_ID)),
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
                Example("one card", views.body(views.wallet_view([SAMPLE_CARD], _T, CARD_ID))),
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
    **PURCHASE_ACTIONS,
    **ENTITLEMENT_ACTIONS,
}
