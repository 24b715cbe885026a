"""The store port. Each method is atomic on its own (as a DynamoDB conditional write would be):
uniqueness and state-transition rules are enforced by the store, and the losing writer reads the
winner. Nothing is ever deleted."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from couchpay.domain.cards import Card, User
from couchpay.domain.catalog import CatalogItem
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PurchaseStatus


class Store(ABC):
    # users ---------------------------------------------------------------------------------
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
    def add_card(self, card: Card) -> None: ...

    @abstractmethod
    def get_card(self, card_id: str) -> Card | None: ...

    @abstractmethod
    def update_card(self, card: Card) -> None: ...

    @abstractmethod
    def list_cards(self, user_id: str) -> list[Card]:
        """Every card the user ever saved, whatever its status."""

    # catalog -------------------------------------------------------------------------------
    @abstractmethod
    def put_item(self, item: CatalogItem) -> None: ...

    @abstractmethod
    def get_item(self, item_id: str) -> CatalogItem | None: ...

    @abstractmethod
    def list_items(self) -> list[CatalogItem]:
        """Active items, in a stable order."""

    # purchases -----------------------------------------------------------------------------
    @abstractmethod
    def claim_purchase(self, purchase: Purchase) -> tuple[Purchase, bool]:
        """Insert unless (user_id, request_id) exists. Returns (stored record, True if ours)."""

    @abstractmethod
    def get_purchase(self, transaction_id: str) -> Purchase | None: ...

    @abstractmethod
    def get_purchase_by_request(self, user_id: str, request_id: str) -> Purchase | None: ...

    @abstractmethod
    def settle_purchase(self, purchase: Purchase, expected: PurchaseStatus) -> bool:
        """Write ``purchase`` only if the stored status is still ``expected``."""

    @abstractmethod
    def list_purchases(
        self, user_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Purchase], str | None]:
        """Newest first; returns a page and the cursor of the next page (None at the end)."""

    # webhooks ------------------------------------------------------------------------------
    @abstractmethod
    def record_event(self, event_id: str, event_type: str, now: datetime) -> bool:
        """Keep a webhook event id; False when it was already kept."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
