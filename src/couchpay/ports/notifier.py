"""Push a reply to a user's open connections (used when a webhook settles a purchase)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class Notifier(ABC):
    @abstractmethod
    def notify(self, user_id: str, reply: dict[str, Any]) -> None: ...


class NullNotifier(Notifier):
    def notify(self, user_id: str, reply: dict[str, Any]) -> None:
        return None
