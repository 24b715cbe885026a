"""The Notifier port: tell a user's open connections that something happened to their purchase.

Domain only: it receives records, never replies. How a record becomes a frame is the wire's
business (``couchpay.wire.push``); how a frame reaches a socket is a transport's (the local
server's connections, API Gateway's management API), wired together in ``bootstrap``.
Invariant: pushing is best effort and never raises into the use case; the record is already
written, and a page that reconnects reads it."""

from __future__ import annotations

from abc import ABC, abstractmethod

from couchpay.domain.purchases import Purchase


class Notifier(ABC):
    @abstractmethod
    def purchase_settled(self, purchase: Purchase, client_secret: str | None = None) -> None:
        """``purchase`` reached a final state (or 3-D Secure: then with the PaymentIntent's
        client secret) outside the fan's own request."""

    @abstractmethod
    def purchase_queued(
        self,
        user_id: str,
        request_id: str,
        transaction_id: str,
        position: int,
        eta_seconds: int,
    ) -> None:
        """A purchase waiting in the line moved (``position`` 1 is next)."""


class NullNotifier(Notifier):
    def purchase_settled(self, purchase: Purchase, client_secret: str | None = None) -> None:
        return None

    def purchase_queued(
        self,
        user_id: str,
        request_id: str,
        transaction_id: str,
        position: int,
        eta_seconds: int,
    ) -> None:
        return None
