"""Disputes (chargebacks and inquiries) on a purchase's charge, as Stripe names them.

A purchase carries at most one dispute (Stripe allows one per charge, and a purchase has one
paid charge). The record is what Stripe said when we last re-read it; webhook payloads are never
trusted. Invariants (``Dispute.supersedes``): a dispute only moves forward — an inquiry may become
a chargeback, anything open may close, a closed dispute stays closed with its outcome — so a late,
repeated or out-of-order re-read never moves it backwards. A different dispute id replaces the
stored one when it was opened later (a chargeback after an inquiry, whichever of their events
arrives first); an older one never replaces a newer one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DisputeStatus(StrEnum):
    """Stripe's dispute statuses. ``warning_*`` are inquiries (no money moved yet)."""

    WARNING_NEEDS_RESPONSE = "warning_needs_response"
    WARNING_UNDER_REVIEW = "warning_under_review"
    WARNING_CLOSED = "warning_closed"
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"
    PREVENTED = "prevented"
    CHARGE_REFUNDED = "charge_refunded"
    """Older API versions: the charge was refunded while the inquiry was open."""

    @property
    def closed(self) -> bool:
        return self in _CLOSED

    @property
    def rank(self) -> int:
        """How far along a dispute is: it never moves to a lower rank."""
        return _RANK[self]


_S = DisputeStatus
_CLOSED = frozenset({_S.WARNING_CLOSED, _S.WON, _S.LOST, _S.PREVENTED, _S.CHARGE_REFUNDED})
_RANK = {
    _S.WARNING_NEEDS_RESPONSE: 0,
    _S.WARNING_UNDER_REVIEW: 1,
    _S.NEEDS_RESPONSE: 2,
    _S.UNDER_REVIEW: 3,
    **{s: 4 for s in _CLOSED},
}


@dataclass(frozen=True)
class Dispute:
    dispute_id: str
    """Stripe's ``dp_...``."""
    charge_id: str
    amount_cents: int
    """What the cardholder disputes (may be less than the purchase's total)."""
    currency: str
    reason: str
    """Stripe's reason: ``fraudulent``, ``product_not_received``, ``duplicate``, ..."""
    status: DisputeStatus
    evidence_due_by: datetime | None
    """Stripe's ``evidence_details.due_by``: respond before this, or the dispute is lost."""
    created_at: datetime
    """When Stripe opened it."""
    updated_at: datetime
    """When we last recorded a change."""
    evidence_submissions: int = 0
    """Stripe's ``evidence_details.submission_count``."""

    @property
    def open(self) -> bool:
        return not self.status.closed

    def refusal(self) -> str | None:
        """Why a purchase under this dispute cannot be refunded, or None when it can. Stripe
        refuses to refund a charge while a dispute of it is open, and a lost dispute already
        gave the cardholder the money back (a refund would pay them twice)."""
        if self.open:
            return f"dispute {self.dispute_id} is open ({self.status.value}): respond to it"
        if self.status is DisputeStatus.LOST:
            return f"dispute {self.dispute_id} was lost: the cardholder has the money back"
        return None

    def supersedes(self, stored: Dispute | None) -> bool:
        """True when this (freshly re-read) dispute should replace ``stored``."""
        if stored is None:
            return True
        if stored.dispute_id != self.dispute_id:
            # A charge has one live dispute at a time: the newer one is the one that counts (a
            # chargeback opened after an inquiry, even when the inquiry's closing comes later).
            return self.created_at > stored.created_at
        if stored.status.closed:
            return False  # closed stays closed, with the outcome first recorded
        if self.status.rank != stored.status.rank:
            return self.status.rank > stored.status.rank
        if self.evidence_submissions < stored.evidence_submissions:
            return False  # an older read of the same stage
        return self._facts() != stored._facts()  # same stage: the re-read's deadline / amount

    def _facts(self) -> tuple[object, ...]:
        return (
            self.status,
            self.amount_cents,
            self.reason,
            self.evidence_due_by,
            self.evidence_submissions,
        )
