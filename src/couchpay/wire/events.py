"""The fulfillment event feed as its receivers see it: one model per event type (the envelope
with its typed ``data``). The AsyncAPI document's ``events`` channel is generated from these;
``domain.events`` builds the bodies, and tests/unit/test_event_feed_models.py holds what the
stores write to these models (extra keys forbidden, every key required), so the two cannot
drift.

Receivers: verify ``Couchpay-Signature`` first (``couchpay.client.verify_event``), dedupe by
``id``, and apply a subject's events in ``sequence`` order."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from couchpay.domain.catalog import ItemKind
from couchpay.domain.disputes import DisputeStatus
from couchpay.domain.events import EventType
from couchpay.domain.statuses import CardStatus, PurchaseStatus


class FeedModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventPaidLine(FeedModel):
    itemId: str = Field(description="The catalog item bought (what to open, book or ship).")
    kind: ItemKind | None = Field(description="livestream, meet_and_greet or merch.")
    quantity: int = Field(ge=1)
    unitPriceCents: int = Field(ge=0, description="The price paid for one, in cents.")
    showStartsAt: AwareDatetime | None = Field(
        description="A livestream's show start (UTC) when the purchase was paid, if the catalog "
        "had one. A rescheduled show sends no event: take the current time from "
        "get-user-entitlements (or the catalog)."
    )


class EventPurchaseFacts(FeedModel):
    transactionId: str = Field(description="couchpay's id of the purchase (the receipt's).")
    userId: str = Field(description="The fan (the sign-in token's subject).")
    status: PurchaseStatus = Field(description="The purchase's status after this event.")
    totalCents: int = Field(ge=0, description="What the fan was charged, in cents.")
    currency: str = Field(description="ISO 4217, lower case (usd).")


class PurchaseSucceededEventData(EventPurchaseFacts):
    items: list[EventPaidLine]


class PurchaseRefundedEventData(EventPurchaseFacts):
    amountCents: int = Field(ge=1, description="Refunded by this event, in cents.")
    refundedCents: int = Field(ge=1, description="Refunded so far in all, in cents.")
    fullyRefunded: bool = Field(description="True once everything paid was refunded.")


class PurchaseDisputeEventData(EventPurchaseFacts):
    disputeId: str = Field(description="Stripe's dispute id (dp_...).")
    disputeStatus: DisputeStatus = Field(
        description="Stripe's status: warning_* are inquiries; won, lost, warning_closed, "
        "prevented and charge_refunded are closed."
    )
    reason: str = Field(description="Stripe's reason: fraudulent, product_not_received, ...")
    amountCents: int = Field(ge=0, description="The disputed amount, in cents.")
    entitlements: Literal["active", "suspended", "revoked"] = Field(
        description="What the purchase now entitles to (get-user-entitlements): suspended while "
        "a dispute is open, active again once it is won, revoked once it is lost."
    )


class CardEventData(FeedModel):
    cardId: str = Field(description="couchpay's id of the wallet card (no card data).")
    userId: str
    status: CardStatus


class EventEnvelope(FeedModel):
    id: str = Field(description="Unique per fact: dedupe on it (a fact may arrive twice).")
    subject: str = Field(description="`purchase:<transactionId>` or `card:<cardId>`.")
    sequence: int = Field(
        ge=1, description="The subject's events are numbered 1, 2, ... in the order they happened."
    )
    createdAt: AwareDatetime = Field(description="When the change happened (UTC).")


class PurchaseSucceededEvent(EventEnvelope):
    """A purchase was paid: open the stream, book the slot, ship the poster."""

    type: Literal[EventType.PURCHASE_SUCCEEDED]
    data: PurchaseSucceededEventData


class PurchaseRefundedEvent(EventEnvelope):
    """Money went back to the fan, in part or in full (``fullyRefunded``: take it all back)."""

    type: Literal[EventType.PURCHASE_REFUNDED]
    data: PurchaseRefundedEventData


class CardSavedEvent(EventEnvelope):
    """A card joined the fan's wallet."""

    type: Literal[EventType.CARD_SAVED]
    data: CardEventData


class CardRemovedEvent(EventEnvelope):
    """A card left the fan's wallet (deleted by the fan, or detached at Stripe)."""

    type: Literal[EventType.CARD_REMOVED]
    data: CardEventData


class PurchaseDisputedEvent(EventEnvelope):
    """The fan's bank disputes the payment (an inquiry or a chargeback): suspend what it bought
    until the dispute closes."""

    type: Literal[EventType.PURCHASE_DISPUTED]
    data: PurchaseDisputeEventData


class PurchaseDisputeClosedEvent(EventEnvelope):
    """A dispute closed: ``entitlements`` says whether the purchase counts again (won) or not
    (lost: the bank took the money back)."""

    type: Literal[EventType.PURCHASE_DISPUTE_CLOSED]
    data: PurchaseDisputeEventData


FEED_MODELS: dict[EventType, type[EventEnvelope]] = {
    EventType.PURCHASE_SUCCEEDED: PurchaseSucceededEvent,
    EventType.PURCHASE_REFUNDED: PurchaseRefundedEvent,
    EventType.PURCHASE_DISPUTED: PurchaseDisputedEvent,
    EventType.PURCHASE_DISPUTE_CLOSED: PurchaseDisputeClosedEvent,
    EventType.CARD_SAVED: CardSavedEvent,
    EventType.CARD_REMOVED: CardRemovedEvent,
}
"""Every event type and its model (a new type without a model fails the feed's test)."""
