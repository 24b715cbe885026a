"""Pushes: records -> the frames a user's open sockets are sent without asking.

``PushNotifier`` implements the domain's ``Notifier`` port: it renders a settled purchase as the
very reply ``purchase-request`` would have given (same action, same message, the original
``requestId``) and hands it to a ``Transport``, which only moves frames."""

from __future__ import annotations

from typing import Any, Protocol

from couchpay.domain.purchases import Purchase
from couchpay.ports.notifier import Notifier
from couchpay.service.exactly_once import PurchaseOutcome
from couchpay.wire import views
from couchpay.wire.protocol import reply
from couchpay.wire.routes import QUEUED, outcome_reply


class Transport(Protocol):
    def notify(self, user_id: str, frame: dict[str, Any]) -> None:
        """Send ``frame`` to every open connection of ``user_id``; never raise."""


def settled_frame(purchase: Purchase, client_secret: str | None = None) -> dict[str, Any]:
    action, model = outcome_reply(PurchaseOutcome(purchase, client_secret))
    return reply(action, views.body(model), purchase.request_id)


class PushNotifier(Notifier):
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def purchase_settled(self, purchase: Purchase, client_secret: str | None = None) -> None:
        self.transport.notify(purchase.user_id, settled_frame(purchase, client_secret))

    def purchase_queued(
        self,
        user_id: str,
        request_id: str,
        transaction_id: str,
        position: int,
        eta_seconds: int,
    ) -> None:
        body = views.body(views.queued_view(transaction_id, position, eta_seconds))
        self.transport.notify(user_id, reply(QUEUED, body, request_id))
