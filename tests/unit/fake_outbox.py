"""The outbox half of the in-memory store (``MemoryStore``): events in a dict keyed by
(subject, sequence), written under the store's lock together with the change they report."""

from __future__ import annotations

import threading
from datetime import datetime

from couchpay.domain.events import OutboxEvent
from couchpay.ports.outbox import OutboxConflict, OutboxStore


class MemoryOutbox(OutboxStore):
    lock: threading.RLock
    outbox: dict[tuple[str, int], OutboxEvent]

    def _place(self, events: list[OutboxEvent]) -> None:
        """Check every event's place first (the caller holds the lock), so a conflict writes
        nothing; the caller writes its change and then ``_put_events``."""
        if any((e.subject, e.sequence) in self.outbox for e in events):
            raise OutboxConflict(events[0].subject)

    def _put_events(self, events: list[OutboxEvent]) -> None:
        for e in events:
            self.outbox[(e.subject, e.sequence)] = e

    def _ordered(self) -> list[OutboxEvent]:
        return sorted(self.outbox.values(), key=lambda e: (e.created_at, e.subject, e.sequence))

    def outbox_event(self, event_id: str) -> OutboxEvent | None:
        with self.lock:
            return next((e for e in self._ordered() if e.event_id == event_id), None)

    def outbox_subject(self, subject: str) -> list[OutboxEvent]:
        with self.lock:
            mine = [e for (s, _), e in self.outbox.items() if s == subject]
        return sorted(mine, key=lambda e: e.sequence)

    def outbox_pending(self, limit: int, due_by: datetime | None = None) -> list[OutboxEvent]:
        with self.lock:
            found = [e for e in self._ordered() if e.pending]
        found.sort(key=lambda e: (e.next_attempt_at or e.created_at, e.subject, e.sequence))
        return [
            e for e in found if due_by is None or (e.next_attempt_at or e.created_at) <= due_by
        ][:limit]

    def outbox_since(self, since: datetime, limit: int) -> list[OutboxEvent]:
        with self.lock:
            return [e for e in self._ordered() if e.created_at >= since][:limit]

    def _outbox_last_sequence(self, subject: str) -> int:
        with self.lock:
            return max((seq for (s, seq) in self.outbox if s == subject), default=0)

    def _outbox_update(self, event: OutboxEvent, expected_version: int) -> bool:
        with self.lock:
            key = (event.subject, event.sequence)
            current = self.outbox.get(key)
            if current is None or current.version != expected_version:
                return False
            self.outbox[key] = event
            return True
