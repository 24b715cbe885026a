"""Fulfillment events: what the rest of couchtour.tv hears about a purchase or a card.

An ``OutboxEvent`` is written by the store in the same atomic write as the state change it
reports (the transactional outbox); a deliverer sends it later. The invariants:

* **Derived, never hand-written.** ``events_for`` (purchases) and ``card_events_for`` (cards) are
  pure functions of the record before and after a write; the store calls them on every write
  (``ports.store``), so no use case can forget an event or emit one without its change.
* **Ordered per subject.** Every event belongs to one subject (``purchase:<transactionId>`` or
  ``card:<cardId>``) and carries that subject's next ``sequence`` (1, 2, ...). The store refuses a
  second event with the same (subject, sequence) in the same atomic write as the change, so with
  any number of writers (threads, processes, Lambdas) a subject's events have one order.
* **Same id for the same fact.** ``event_id`` is a digest of (type, subject, what distinguishes
  the fact: the refunded total, a dispute's id and status), so a fact derived twice carries one
  id, and a receiver's dedupe by id absorbs it.
* **Minimal data.** Ids, amounts in integer cents, currencies, item ids/kinds/quantities/show
  times and statuses. Never card data (no brand, last four, expiry, fingerprint, Stripe payment
  method), never names, emails or addresses.

Disputes: ``purchase.disputed`` when a dispute first appears on a purchase (fact: its id),
``purchase.dispute_closed`` when it closes (fact: its id and outcome); both say what happens to
the fan's entitlements (``domain.entitlements``: suspended, active again, revoked). A dispute first
seen already closed reports both, in that order.

Adding a type: add it to ``EventType``, a branch to ``events_for``, its model to
``wire.events.FEED_MODELS`` and a sample transition to ``wire.asyncapi.event_feed.sample_events``
(tests fail until both exist). Stores and the deliverer
need nothing: a field in ``SETTLED_FIELDS`` reaches ``events_for`` through ``settle_purchase``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from couchpay.domain.cards import Card
from couchpay.domain.catalog import CatalogItem
from couchpay.domain.entitlements import entitlement_status
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import CardStatus, PurchaseStatus


class EventType(StrEnum):
    PURCHASE_SUCCEEDED = "purchase.succeeded"
    PURCHASE_REFUNDED = "purchase.refunded"
    PURCHASE_DISPUTED = "purchase.disputed"
    PURCHASE_DISPUTE_CLOSED = "purchase.dispute_closed"
    CARD_SAVED = "card.saved"
    CARD_REMOVED = "card.removed"


@dataclass(frozen=True)
class NewEvent:
    """An event as derived, before the store gives it its place in the subject's order."""

    type: EventType
    subject: str
    fact: str
    """What distinguishes this fact among the subject's facts of this type (for the id)."""
    created_at: datetime
    data: dict[str, Any]

    @property
    def event_id(self) -> str:
        digest = hashlib.sha256(f"{self.type}|{self.subject}|{self.fact}".encode()).hexdigest()
        return f"evt_{digest[:32]}"

    def placed(self, sequence: int) -> OutboxEvent:
        return OutboxEvent(
            event_id=self.event_id,
            subject=self.subject,
            sequence=sequence,
            type=self.type,
            created_at=self.created_at,
            data=dict(self.data),
        )


@dataclass(frozen=True)
class OutboxEvent:
    event_id: str
    subject: str
    sequence: int
    type: EventType
    created_at: datetime
    data: dict[str, Any]
    # delivery state (written by the deliverer, never with the change) --------------------------
    pending: bool = True
    """Not yet acknowledged (2xx) by every configured endpoint."""
    delivered: dict[str, Any] = field(default_factory=dict)
    """Endpoint key -> when it acknowledged the event (stored time text)."""
    attempts: int = 0
    """Failed attempts since the last success or replay (drives the backoff)."""
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    version: int = 0
    """Bumped by every delivery-state write (the compare-and-set of ``ports.outbox``)."""

    def envelope(self) -> dict[str, Any]:
        """The body a receiver gets (the documented feed format)."""
        return {
            "id": self.event_id,
            "type": self.type.value,
            "subject": self.subject,
            "sequence": self.sequence,
            "createdAt": self.created_at.isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }


def purchase_subject(transaction_id: str) -> str:
    return f"purchase:{transaction_id}"


def card_subject(card_id: str) -> str:
    return f"card:{card_id}"


PAID = frozenset({PurchaseStatus.SUCCEEDED, PurchaseStatus.REFUNDED})


Catalog = Callable[[str], CatalogItem | None]


def remembering(catalog: Catalog) -> Catalog:
    """``catalog`` asked once per item (a settle derives its events twice)."""
    seen: dict[str, CatalogItem | None] = {}

    def lookup(item_id: str) -> CatalogItem | None:
        if item_id not in seen:
            seen[item_id] = catalog(item_id)
        return seen[item_id]

    return lookup


def events_for(before: Purchase | None, after: Purchase, catalog: Catalog) -> list[NewEvent]:
    """The events a purchase write reports, in the order they happened. ``catalog`` looks up
    the bought items' kind and show time (called only when an event needs them)."""
    was_paid = before is not None and before.status in PAID
    found: list[NewEvent] = []
    subject = purchase_subject(after.transaction_id)
    if after.status in PAID and not was_paid:
        found.append(
            NewEvent(
                EventType.PURCHASE_SUCCEEDED,
                subject,
                "",
                after.updated_at,
                _purchase_data(after) | {"items": _lines(after, catalog)},
            )
        )
    refunded_before = before.refunded_cents if before is not None else 0
    if after.refunded_cents > refunded_before:
        found.append(
            NewEvent(
                EventType.PURCHASE_REFUNDED,
                subject,
                str(after.refunded_cents),
                after.updated_at,
                _purchase_data(after)
                | {
                    "amountCents": after.refunded_cents - refunded_before,
                    "refundedCents": after.refunded_cents,
                    "fullyRefunded": after.refunded_cents >= after.total_cents,
                },
            )
        )
    return found + _dispute_events(before, after)


def _dispute_events(before: Purchase | None, after: Purchase) -> list[NewEvent]:
    dispute = after.dispute
    if dispute is None:
        return []
    held = before.dispute if before is not None else None
    if held is not None and held.dispute_id != dispute.dispute_id:
        held = None  # another dispute of the same charge: a new fact
    subject = purchase_subject(after.transaction_id)
    status = entitlement_status(after)
    data = _purchase_data(after) | {
        "disputeId": dispute.dispute_id,
        "disputeStatus": dispute.status.value,
        "reason": dispute.reason,
        "amountCents": dispute.amount_cents,
        "entitlements": status.value if status is not None else "revoked",
    }
    found: list[NewEvent] = []
    if held is None:
        found.append(
            NewEvent(
                EventType.PURCHASE_DISPUTED, subject, dispute.dispute_id, after.updated_at, data
            )
        )
    if dispute.status.closed and (held is None or held.open):
        fact = f"{dispute.dispute_id}|{dispute.status.value}"
        found.append(
            NewEvent(EventType.PURCHASE_DISPUTE_CLOSED, subject, fact, after.updated_at, data)
        )
    return found


def _purchase_data(p: Purchase) -> dict[str, Any]:
    return {
        "transactionId": p.transaction_id,
        "userId": p.user_id,
        "status": p.status.value,
        "totalCents": p.total_cents,
        "currency": p.currency,
    }


def _lines(p: Purchase, catalog: Catalog) -> list[dict[str, Any]]:
    lines = []
    for line in p.items:
        item = catalog(line.item_id)
        starts = item.show_starts_at if item is not None else None
        lines.append(
            {
                "itemId": line.item_id,
                "kind": item.kind.value if item is not None else None,
                "quantity": line.quantity,
                "unitPriceCents": line.unit_price_cents,
                "showStartsAt": starts.isoformat().replace("+00:00", "Z") if starts else None,
            }
        )
    return lines


def _in_wallet(card: Card | None) -> bool:
    return card is not None and card.active and card.status is CardStatus.LIVE


def card_events_for(before: Card | None, after: Card) -> list[NewEvent]:
    """``card.saved`` when a card joins the wallet (active and live), ``card.removed`` when an
    active card is cancelled (deleted by the fan, detached at Stripe). Expiry is not an event: a
    card past its month simply stops being chargeable."""
    subject = card_subject(after.card_id)
    data = {"cardId": after.card_id, "userId": after.user_id, "status": after.status.value}
    if _in_wallet(after) and not _in_wallet(before):
        return [NewEvent(EventType.CARD_SAVED, subject, "", after.updated_at, data)]
    removed = after.status is CardStatus.CANCELLED or not after.active
    if before is not None and before.active and removed:
        return [NewEvent(EventType.CARD_REMOVED, subject, "", after.updated_at, data)]
    return []
