"""The store's refunds half (``Store`` inherits it). A refund is claimed by its ``refund_key``
(derived from the operator's request, so a repeated ``couchpay refund`` finds the first one): a
conditional insert, and the loser reads the winner. Refunds are never deleted."""

from __future__ import annotations

from abc import ABC, abstractmethod

from couchpay.domain.refunds import Refund
from couchpay.ports.store_errors import StoreError


class RefundStore(ABC):
    def claim_refund(self, refund: Refund) -> tuple[Refund, bool]:
        """Insert unless ``refund_key`` exists. Returns (stored record, True if ours)."""
        if self._insert_refund(refund):
            return refund, True
        existing = self._get_refund(refund.refund_key)
        if existing is None:
            raise StoreError(f"refund {refund.refund_key} neither claimed nor found")
        return existing, False

    @abstractmethod
    def _insert_refund(self, refund: Refund) -> bool:
        """Insert unless ``refund_key`` exists; False when it did."""

    @abstractmethod
    def _get_refund(self, refund_key: str) -> Refund | None: ...

    @abstractmethod
    def update_refund(self, refund: Refund) -> None: ...

    @abstractmethod
    def list_refunds(self, transaction_id: str) -> list[Refund]:
        """Oldest first."""
