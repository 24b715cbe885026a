"""The Pacer port: one shared number that changes only by compare-and-set, the shared line's
"theoretical arrival time" (``service.pacing``), kept where every Lambda instance sees it.

Invariants every adapter keeps (tests/contract/pacer_contract.py runs them on each):
* ``swap(key, expected, new)`` stores ``new`` only if the key holds exactly ``expected`` (None:
  the key holds nothing yet), atomically against every other caller on every process;
* it answers ``(True, new)`` when it stored, else ``(False, what the key holds now)``, so a
  caller that lost the race computes again from the winner's value without another read;
* values are whole numbers (microseconds), compared exactly.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod


class Pacer(ABC):
    @abstractmethod
    def read(self, key: str) -> int | None:
        """The value the key holds (strongly consistent), None if never set."""

    @abstractmethod
    def swap(self, key: str, expected: int | None, new: int) -> tuple[bool, int | None]:
        """Compare-and-set; see the module's invariants."""


class MemoryPacer(Pacer):
    """In one process (unit tests; ``couchpay serve`` has its own line and needs none)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, int] = {}

    def read(self, key: str) -> int | None:
        with self._lock:
            return self._values.get(key)

    def swap(self, key: str, expected: int | None, new: int) -> tuple[bool, int | None]:
        with self._lock:
            current = self._values.get(key)
            if current != expected:
                return False, current
            self._values[key] = new
            return True, new
