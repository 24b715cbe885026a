"""The store port. Each method is atomic on its own (as a DynamoDB conditional write would be):
uniqueness and state-transition rules are enforced by the store, and the losing writer reads the
winner. Nothing is ever deleted."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime

from couchpay.domain.cards import Card, User
from couchpay.domain.catalog import CatalogItem
from couchpay.domain.purchases import Purchase
from couchpay.domain.refunds import Refund
from couchpay.domain.statuses import CardStatus, PurchaseStatus


class LiveCardExists(Exception):
    """``add_card``/``update_card`` refused: the user already has a live card with this
    fingerprint (one live card per user and fingerprint, enforced by the store itself)."""

    def __init__(self, card_id: str | None) -> None:
        super().__init__(f"a live card with this fingerprint exists: {card_id}")
        self.card_id = card_id
        """The live card that holds the fingerprint, when the store can tell."""


class Store(ABC):
    fast_reads = False
    """True when reads answer in microseconds with no network in between (an embedded
    database): the local server may then answer read-only actions on its event loop."""

    # users ---------------------------------------------------------------------------------
    @abstractmethod
    def get_user(self, user_id: str) -> User | None:
        """A read: never creates the user."""

    @abstractmethod
    def ensure_user(self, user_id: str, now: datetime) -> User:
        """Return the user, creating an empty record first if there is none."""

    @abstractmethod
    def set_stripe_customer(self, user_id: str, customer_id: str) -> User:
        """Set the user's Stripe customer only if none is set; return the user as stored."""

    @abstractmethod
    def set_default_card(self, user_id: str, card_id: str | None) -> None: ...

    # cards ---------------------------------------------------------------------------------
    @abstractmethod
    def add_card(self, card: Card) -> None:
        """Store a new card. A live, active card whose (user, fingerprint) already has one
        raises ``LiveCardExists`` and stores nothing (whatever the concurrency)."""

    @abstractmethod
    def get_card(self, card_id: str) -> Card | None: ...

    @abstractmethod
    def update_card(self, card: Card) -> None: ...

    @abstractmethod
    def list_cards(self, user_id: str) -> list[Card]:
        """Every card the user ever saved, whatever its status."""

    @abstractmethod
    def find_cards_by_token(self, card_token: str) -> list[Card]:
        """Cards (of any user and status) stored for this Stripe PaymentMethod id."""

    @abstractmethod
    def cards_with_status(self, status: CardStatus) -> Iterator[Card]:
        """Every card in ``status``, across users (for operator jobs; may page internally)."""

    # catalog -------------------------------------------------------------------------------
    @abstractmethod
    def put_item(self, item: CatalogItem) -> None: ...

    @abstractmethod
    def get_item(self, item_id: str) -> CatalogItem | None: ...

    @abstractmethod
    def list_items(self) -> list[CatalogItem]:
        """Active items, ordered by price, then name, then id."""

    @abstractmethod
    def list_all_items(self) -> list[CatalogItem]:
        """Active and inactive items, in the same order."""

    # purchases -----------------------------------------------------------------------------
    @abstractmethod
    def claim_purchase(self, purchase: Purchase) -> tuple[Purchase, bool]:
        """Insert unless (user_id, request_id) exists. Returns (stored record, True if ours)."""

    @abstractmethod
    def get_purchase(self, transaction_id: str) -> Purchase | None: ...

    @abstractmethod
    def get_purchase_by_request(self, user_id: str, request_id: str) -> Purchase | None: ...

    @abstractmethod
    def get_purchase_by_intent(self, payment_intent_id: str) -> Purchase | None: ...

    @abstractmethod
    def list_unsettled_purchases(self, updated_before: datetime, limit: int) -> list[Purchase]:
        """``pending`` and ``requires_action`` purchases last written before ``updated_before``,
        oldest first."""

    @abstractmethod
    def settle_purchase(self, purchase: Purchase, expected: PurchaseStatus) -> bool:
        """Write ``purchase`` only if the stored status is still ``expected``."""

    @abstractmethod
    def list_purchases(
        self, user_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Purchase], str | None]:
        """Newest first; returns a page and the cursor of the next page (None at the end)."""

    # refunds -------------------------------------------------------------------------------
    @abstractmethod
    def claim_refund(self, refund: Refund) -> tuple[Refund, bool]:
        """Insert unless ``refund_key`` exists. Returns (stored record, True if ours)."""

    @abstractmethod
    def update_refund(self, refund: Refund) -> None: ...

    @abstractmethod
    def list_refunds(self, transaction_id: str) -> list[Refund]:
        """Oldest first."""

    # webhooks ------------------------------------------------------------------------------
    @abstractmethod
    def record_event(self, event_id: str, event_type: str, now: datetime) -> bool:
        """Keep a webhook event id; False when it was already kept."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
