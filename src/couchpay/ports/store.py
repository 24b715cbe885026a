"""The store port. Each method is atomic on its own (as a DynamoDB conditional write would be):
uniqueness and state-transition rules are enforced by the store, and the losing writer reads the
winner. Nothing is ever deleted. A settle or card write carries, in the same atomic write, the
fulfillment events its change reports (``domain.events``; the outbox half is ``ports.outbox``).

The rules every store shares are written here, once, as template methods (a claim is a
conditional insert, and the loser reads the winner; history pages and their cursor; catalog
order; what settling may change); adapters implement the primitives (``_insert_purchase``,
``_purchases_newest_first``, ...) and map records through ``ports.records``, which derives every
row and item from the dataclass fields, so no store lists a record's fields by hand."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime

from couchpay.domain.cards import Card, User
from couchpay.domain.catalog import CatalogItem
from couchpay.domain.errors import BadRequest, SoldOut
from couchpay.domain.events import (
    NewEvent,
    OutboxEvent,
    card_events_for,
    card_subject,
    events_for,
    purchase_subject,
    remembering,
)
from couchpay.domain.purchases import Purchase, held_units
from couchpay.domain.statuses import CardStatus, PurchaseStatus
from couchpay.ports import stored_keys
from couchpay.ports.outbox import OutboxStore
from couchpay.ports.purchase_queries import PurchaseQueries, newest_first_page
from couchpay.ports.refund_store import RefundStore
from couchpay.ports.store_errors import StoreError

SETTLED_FIELDS = (
    "updated_at",
    "payment_method_id",
    "payment_intent_id",
    "active",
    "status",
    "failure_code",
    "failure_message",
    "stripe_response",
    "refunded_cents",
    "line_slot_at",
    "dispute",
)
"""What ``settle_purchase`` may change on a purchase; everything else is fixed at the claim."""


def catalog_order(item: CatalogItem) -> tuple[int, str, str]:
    """Items are listed by price, then name, then id."""
    return (item.price_cents, item.name, item.item_id)


class LiveCardExists(Exception):
    """``add_card``/``update_card`` refused: the user already has a live card with this
    fingerprint (one live card per user and fingerprint, enforced by the store itself)."""

    def __init__(self, card_id: str | None) -> None:
        super().__init__(f"a live card with this fingerprint exists: {card_id}")
        self.card_id = card_id
        """The live card that holds the fingerprint, when the store can tell."""


class Store(PurchaseQueries, OutboxStore, RefundStore, ABC):
    """Operator look-ups and erasure: ``PurchaseQueries``; the outbox: ``OutboxStore``."""

    fast_reads = False
    """True when reads answer in microseconds with no network in between (an embedded
    database): the local server may then answer read-only actions on its event loop."""

    # users ---------------------------------------------------------------------------------
    @abstractmethod
    def get_user(self, user_id: str) -> User | None:
        """A read: never creates the user."""

    def ensure_user(self, user_id: str, now: datetime) -> User:
        """Return the user, creating an empty record first if there is none."""
        return self.get_user(user_id) or self._create_user(user_id, now)

    @abstractmethod
    def _create_user(self, user_id: str, now: datetime) -> User:
        """Insert an empty user unless one exists; return the user as stored."""

    @abstractmethod
    def set_stripe_customer(self, user_id: str, customer_id: str) -> User:
        """Set the user's Stripe customer only if none is set; return the user as stored."""

    @abstractmethod
    def set_default_card(self, user_id: str, card_id: str | None) -> None: ...

    # cards ---------------------------------------------------------------------------------
    def add_card(self, card: Card) -> None:
        """Store a new card. A live, active card whose (user, fingerprint) already has one
        raises ``LiveCardExists`` and stores nothing (whatever the concurrency). Its events
        (``card.saved``) are written in the same atomic write."""
        self._with_events(
            card_subject(card.card_id),
            lambda: card_events_for(None, card),
            lambda events: self._add_card(card, events),
            None,
        )

    @abstractmethod
    def _add_card(self, card: Card, events: list[OutboxEvent]) -> None:
        """Insert the card and ``events`` atomically (``OutboxConflict``: nothing written)."""

    @abstractmethod
    def get_card(self, card_id: str) -> Card | None: ...

    def update_card(self, card: Card) -> None:
        """Replace the card (NotFound if it was never stored), with the events the change
        reports (``card.removed``) in the same atomic write."""
        self._with_events(
            card_subject(card.card_id),
            lambda: card_events_for(self.get_card(card.card_id), card),
            lambda events: self._update_card(card, events),
            None,
        )

    @abstractmethod
    def _update_card(self, card: Card, events: list[OutboxEvent]) -> None:
        """Replace the card and insert ``events`` atomically (``OutboxConflict``: nothing
        written)."""

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

    def list_items(self) -> list[CatalogItem]:
        """Active items, ordered by price, then name, then id."""
        return [i for i in self.list_all_items() if i.active]

    def list_all_items(self) -> list[CatalogItem]:
        """Active and inactive items, in the same order."""
        return sorted(self._all_items(), key=catalog_order)

    @abstractmethod
    def _all_items(self) -> list[CatalogItem]:
        """Every catalog item, in any order."""

    # purchases -----------------------------------------------------------------------------
    def claim_purchase(
        self, purchase: Purchase, capacities: Mapping[str, int] | None = None
    ) -> tuple[Purchase, bool]:
        """Insert unless (user_id, request_id) exists. Returns (stored record, True if ours).

        A new claim also holds the units of its limited lines (``PurchaseLine.limited``), in the
        same atomic write, never past ``capacities[item_id]``: SoldOut, and nothing written,
        when they are not all there."""
        holds = held_units(purchase) if purchase.status.holds_units else {}
        caps = dict(capacities or {})
        if any(item not in caps for item in holds):
            raise ValueError("a limited line needs its item's capacity")
        if any(qty > caps[item] for item, qty in holds.items()):
            raise SoldOut()
        if self._insert_purchase(purchase, holds, caps):
            return purchase, True
        existing = self.get_purchase_by_request(purchase.user_id, purchase.request_id)
        if existing is None:  # the claim exists, so its record does: rows never go away
            raise StoreError(f"claim for request {purchase.request_id} without its purchase")
        return existing, False

    @abstractmethod
    def _insert_purchase(
        self, purchase: Purchase, holds: dict[str, int], capacities: dict[str, int]
    ) -> bool:
        """Insert the record (and its ``(user_id, request_id)`` claim) atomically, unless the
        claim exists (False, nothing held). With it, add ``holds`` to each item's held units,
        none past its capacity: raise SoldOut (and write nothing) if one would be."""

    @abstractmethod
    def held_units(self) -> dict[str, int]:
        """Units held per limited item (by open and paid purchases)."""

    @abstractmethod
    def get_purchase(self, transaction_id: str) -> Purchase | None: ...

    @abstractmethod
    def get_purchase_by_request(self, user_id: str, request_id: str) -> Purchase | None: ...

    @abstractmethod
    def get_purchase_by_intent(self, payment_intent_id: str) -> Purchase | None: ...

    @abstractmethod
    def list_unsettled_purchases(self, updated_before: datetime, limit: int) -> list[Purchase]:
        """``queued``, ``pending`` and ``requires_action`` purchases last written before
        ``updated_before``, oldest first."""

    def settle_purchase(
        self, purchase: Purchase, expected: PurchaseStatus, *, read_at: datetime | None = None
    ) -> bool:
        """Write ``purchase``'s SETTLED_FIELDS only if the stored status is still ``expected``
        and, given ``read_at`` (the ``updated_at`` of the record the caller changed), only if
        nobody wrote it since: a concurrent write in the same status (a dispute, a refund) then
        wins and this one loses, instead of writing back the fields it had read.
        Moving out of a status that holds units (into failed / canceled) releases the limited
        lines' units in the same write; moving back into one (Stripe says a failed purchase was
        paid after all) holds them again, capacity or not: a paid fan keeps their slot.
        The events the change reports (``domain.events.events_for`` of the stored record before
        and after) go into the same write."""
        held_before, held_after = expected.holds_units, purchase.status.holds_units
        sign = 0 if held_before == held_after else (1 if held_after else -1)
        deltas = {item: sign * qty for item, qty in held_units(purchase).items()} if sign else {}
        catalog = remembering(self.get_item)

        def derive() -> list[NewEvent] | None:
            before = self.get_purchase(purchase.transaction_id)
            if before is None or before.status is not expected:
                return None  # the compare-and-set cannot hold: nothing to write
            if read_at is not None and before.updated_at != read_at:
                return None
            after = replace(before, **{name: getattr(purchase, name) for name in SETTLED_FIELDS})
            return events_for(before, after, catalog)

        return self._with_events(
            purchase_subject(purchase.transaction_id),
            derive,
            lambda events: self._settle(purchase, expected, deltas, events, read_at),
            False,
        )

    @abstractmethod
    def _settle(
        self,
        purchase: Purchase,
        expected: PurchaseStatus,
        deltas: dict[str, int],
        events: list[OutboxEvent],
        read_at: datetime | None,
    ) -> bool:
        """The compare-and-set of ``settle_purchase`` (on the status, and on ``updated_at`` when
        ``read_at`` is given), with ``deltas`` added to held units and ``events`` inserted, all
        in one atomic write (False: nothing written; ``OutboxConflict``
        when an event's place was taken: nothing written)."""

    def list_purchases(
        self, user_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Purchase], str | None]:
        """Newest first; returns a page and the cursor of the next page (None at the end)."""
        if limit < 1:
            raise BadRequest("invalid limit")
        before = stored_keys.decode_cursor(cursor) if cursor is not None else None
        return newest_first_page(self._purchases_newest_first(user_id, before, limit + 1), limit)

    @abstractmethod
    def _purchases_newest_first(
        self, user_id: str, before: tuple[str, str] | None, count: int
    ) -> list[Purchase]:
        """Up to ``count`` of the user's purchases, by (created_at, transaction_id) descending,
        strictly before ``before`` (a stored ``created_at`` text and a transaction id)."""

    # webhooks ------------------------------------------------------------------------------
    @abstractmethod
    def record_event(self, event_id: str, event_type: str, now: datetime) -> bool:
        """Keep a webhook event id; False when it was already kept."""

    def close(self) -> None:
        """Release connections."""
