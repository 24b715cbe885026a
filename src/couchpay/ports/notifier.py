"""Push to a user's open connections (used when a webhook or reconcile settles a purchase).

Adapters implement ``notify`` (the transport); ``purchase_settled`` renders the same reply the
user would have got from ``purchase-request``, with the original ``requestId``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from couchpay.domain.purchases import Purchase


class Notifier(ABC):
    @abstractmethod
    def notify(self, user_id: str, reply: dict[str, Any]) -> None: ...

    def purchase_settled(self, purchase: Purchase) -> None:
        from couchpay.routes import outcome_reply
        from couchpay.service.purchases import PurchaseOutcome

        action, message = outcome_reply(PurchaseOutcome(purchase))
        reply = {"action": action, "message": message, "requestId": purchase.request_id}
        self.notify(purchase.user_id, reply)


class NullNotifier(Notifier):
    def notify(self, user_id: str, reply: dict[str, Any]) -> None:
        return None
