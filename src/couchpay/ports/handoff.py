"""The Handoff port: give a purchase whose slot in the shared line is too far away for the
request that admitted it (a ``$default`` invocation has 29 s at most) to a worker that sends it
when its slot comes (``service.shared_sending.work``).

Invariants: ``hand_off`` either accepted the purchase (it is delivered to a worker, at least once,
``delay_seconds`` from now at the earliest) or raised ``HandoffFailed`` (nothing will deliver it:
the caller settles it ``busy``, nothing charged). A delivery may come twice; the worker's
compare-and-set on the record (``queued`` -> ``pending``) and Stripe's idempotency key make the
second harmless. Adapters: SQS (``adapters.sqs_handoff``), memory (tests)."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass

MAX_DELAY_SECONDS = 900  # SQS's longest DelaySeconds


class HandoffFailed(RuntimeError):
    """The worker's queue did not take the purchase."""


@dataclass(frozen=True)
class Handed:
    transaction_id: str
    slot_at: float
    delay_seconds: int


class Handoff(ABC):
    @abstractmethod
    def hand_off(self, transaction_id: str, slot_at: float, delay_seconds: int) -> None:
        """Deliver ``(transaction_id, slot_at)`` to a worker, ``delay_seconds`` from now."""


class MemoryHandoff(Handoff):
    """Keeps what was handed off, for a test to play the worker."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.handed: list[Handed] = []
        self.refuse = False

    def hand_off(self, transaction_id: str, slot_at: float, delay_seconds: int) -> None:
        if self.refuse:
            raise HandoffFailed("the queue refused")
        with self._lock:
            self.handed.append(Handed(transaction_id, slot_at, delay_seconds))

    def take_all(self) -> list[Handed]:
        with self._lock:
            taken, self.handed = self.handed, []
            return taken
