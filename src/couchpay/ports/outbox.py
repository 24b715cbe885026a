"""The store's outbox half: fulfillment events written with the change they report, and their
delivery state.

Invariants every store keeps (the contract in tests/contract/outbox_contract.py checks them):

* An event is written only inside the atomic write of its change (``Store.settle_purchase``,
  ``add_card``, ``update_card``: the SQLite transaction, the DynamoDB TransactWriteItems, the
  memory store's lock). A write whose event cannot take its place raises ``OutboxConflict`` and
  writes nothing; the ``Store`` retries it with a fresh read.
* ``(subject, sequence)`` is unique; a subject's events read back in sequence order,
  consistently (never from a lagging index).
* Events are never deleted. Only their delivery state changes, by compare-and-set on
  ``version`` (``_outbox_update``), so two deliverers never lose each other's acknowledgements;
  ``pending`` becomes False only once every endpoint acknowledged.

The rules of delivery state (what a success, a failure and a replay change) are written here,
once; adapters implement the primitives.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from couchpay.domain.events import NewEvent, OutboxEvent
from couchpay.ports.stored_keys import dt_out

CAS_ATTEMPTS = 20
OUTBOX_ATTEMPTS = 20
T = TypeVar("T")


class OutboxConflict(RuntimeError):
    """Another writer took this (subject, sequence) first: re-read and derive again."""


class OutboxStore(ABC):
    # reads -------------------------------------------------------------------------------------
    @abstractmethod
    def outbox_event(self, event_id: str) -> OutboxEvent | None:
        """The event with this id (the first in its subject's order if it was derived twice)."""

    @abstractmethod
    def outbox_subject(self, subject: str) -> list[OutboxEvent]:
        """Every event of ``subject``, by sequence (a consistent read)."""

    @abstractmethod
    def outbox_pending(self, limit: int, due_by: datetime | None = None) -> list[OutboxEvent]:
        """Up to ``limit`` pending events in the order they are due (``next_attempt_at``, else
        ``created_at``), only those due by ``due_by`` when given: an event waiting out its
        backoff never crowds out the others. An index may lag: the deliverer re-reads each
        subject with ``outbox_subject`` before it sends."""

    @abstractmethod
    def outbox_since(self, since: datetime, limit: int) -> list[OutboxEvent]:
        """Up to ``limit`` events created at or after ``since``, oldest first."""

    @abstractmethod
    def _outbox_last_sequence(self, subject: str) -> int:
        """The subject's highest sequence so far (0 when it has none)."""

    def _with_events(
        self,
        subject: str,
        derive: Callable[[], list[NewEvent] | None],
        write: Callable[[list[OutboxEvent]], T],
        refused: T,
    ) -> T:
        """Write a change with the events ``derive`` finds in it (None: the write cannot
        succeed, answer ``refused``). The subject's last sequence is read *before* the record
        the events are derived from, so a writer that changed the record meanwhile has taken
        the place our events would take: the write raises OutboxConflict and we derive again."""
        for _ in range(OUTBOX_ATTEMPTS):
            found = derive()
            last = 0
            if found:
                last = self._outbox_last_sequence(subject)
                found = derive()
            if found is None:
                return refused
            placed = [event.placed(last + i + 1) for i, event in enumerate(found)]
            try:
                return write(placed)
            except OutboxConflict:
                continue
        raise OutboxConflict(f"{subject}: too many concurrent writers, events not placed")

    # delivery state ----------------------------------------------------------------------------
    @abstractmethod
    def _outbox_update(self, event: OutboxEvent, expected_version: int) -> bool:
        """Write ``event``'s delivery state (``pending`` .. ``version``) if the stored version is
        still ``expected_version``; False otherwise."""

    def outbox_delivered(
        self, event: OutboxEvent, endpoint: str, endpoints: list[str], now: datetime
    ) -> OutboxEvent:
        """``endpoint`` answered 2xx: record it; the event stops being pending once every one of
        ``endpoints`` has. Returns the stored event."""

        def change(e: OutboxEvent) -> OutboxEvent:
            delivered = {**e.delivered, endpoint: dt_out(now)}
            done = all(k in delivered for k in endpoints)
            return replace(
                e,
                delivered=delivered,
                pending=not done,
                attempts=0 if done else e.attempts,
                next_attempt_at=None if done else e.next_attempt_at,
                last_error=None if done else e.last_error,
            )

        return self._outbox_change(event, change)

    def outbox_failed(self, event: OutboxEvent, error: str, retry_at: datetime) -> OutboxEvent:
        """An attempt failed: count it and wait until ``retry_at`` (the event stays pending)."""

        def change(e: OutboxEvent) -> OutboxEvent:
            if not e.pending:
                return e
            return replace(
                e, attempts=e.attempts + 1, next_attempt_at=retry_at, last_error=error[:300]
            )

        return self._outbox_change(event, change)

    def outbox_defer(self, event: OutboxEvent, until: datetime) -> OutboxEvent:
        """Held back behind an earlier event of its subject: not due before ``until`` (no
        attempt counted)."""

        def change(e: OutboxEvent) -> OutboxEvent:
            if not e.pending or (e.next_attempt_at is not None and e.next_attempt_at >= until):
                return e
            return replace(e, next_attempt_at=until)

        return self._outbox_change(event, change)

    def outbox_complete(self, event: OutboxEvent, endpoints: list[str]) -> OutboxEvent:
        """Every one of ``endpoints`` has acknowledged the event (an endpoint it still waited for
        was removed from the settings): it stops being pending."""

        def change(e: OutboxEvent) -> OutboxEvent:
            if not e.pending or any(k not in e.delivered for k in endpoints):
                return e
            return replace(e, pending=False, attempts=0, next_attempt_at=None, last_error=None)

        return self._outbox_change(event, change)

    def outbox_replay(self, event: OutboxEvent) -> OutboxEvent:
        """Deliver again, to every endpoint, at once (receivers dedupe by id)."""

        def change(e: OutboxEvent) -> OutboxEvent:
            return replace(
                e, pending=True, delivered={}, attempts=0, next_attempt_at=None, last_error=None
            )

        return self._outbox_change(event, change)

    def _outbox_change(
        self, event: OutboxEvent, change: Callable[[OutboxEvent], OutboxEvent]
    ) -> OutboxEvent:
        current = event
        for _ in range(CAS_ATTEMPTS):
            updated = change(current)
            if updated == current:
                return current
            updated = replace(updated, version=current.version + 1)
            if self._outbox_update(updated, current.version):
                return updated
            fresh = self.outbox_event_at(current.subject, current.sequence)
            if fresh is None:
                raise OutboxConflict(f"event {current.event_id} vanished")
            current = fresh
        raise OutboxConflict(f"event {event.event_id}: too many concurrent delivery writes")

    def outbox_event_at(self, subject: str, sequence: int) -> OutboxEvent | None:
        return next((e for e in self.outbox_subject(subject) if e.sequence == sequence), None)
