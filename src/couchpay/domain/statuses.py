"""Status enums and the legal transitions between them."""

from __future__ import annotations

from enum import StrEnum


class CardStatus(StrEnum):
    LIVE = "live"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    ERROR = "error"
    FAIL_CHECKS = "fail_checks"


class PurchaseStatus(StrEnum):
    QUEUED = "queued"
    """Claimed and waiting in the line for Stripe; never sent to Stripe yet."""
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    REFUNDED = "refunded"

    @property
    def settled(self) -> bool:
        return self not in _OPEN

    @property
    def holds_units(self) -> bool:
        """Limited items' units stay held while a purchase is open and once it is paid; they
        are released when it fails or is canceled (a refund does not put a slot back on sale)."""
        return self not in (PurchaseStatus.FAILED, PurchaseStatus.CANCELED)


_P = PurchaseStatus
_OPEN = frozenset({_P.QUEUED, _P.PENDING, _P.REQUIRES_ACTION})
PURCHASE_TRANSITIONS: dict[PurchaseStatus, frozenset[PurchaseStatus]] = {
    _P.QUEUED: frozenset({_P.PENDING, _P.REQUIRES_ACTION, _P.SUCCEEDED, _P.FAILED}),
    _P.PENDING: frozenset({_P.REQUIRES_ACTION, _P.SUCCEEDED, _P.FAILED, _P.CANCELED}),
    _P.REQUIRES_ACTION: frozenset({_P.SUCCEEDED, _P.FAILED, _P.CANCELED}),
    _P.SUCCEEDED: frozenset({_P.REFUNDED}),
    _P.FAILED: frozenset(),
    _P.CANCELED: frozenset(),
    _P.REFUNDED: frozenset(),
}


def can_move(current: PurchaseStatus, new: PurchaseStatus) -> bool:
    """True when a purchase may go from ``current`` to ``new`` (never backwards)."""
    return new in PURCHASE_TRANSITIONS[current]


class PaymentIntentStatus(StrEnum):
    """Stripe's PaymentIntent statuses, as the gateway reports them."""

    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    CANCELED = "canceled"
    SUCCEEDED = "succeeded"
