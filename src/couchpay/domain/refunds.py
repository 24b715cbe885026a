"""Refunds: claimed in our store under an operator key before Stripe is called."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Refund:
    refund_key: str
    transaction_id: str
    amount_cents: int
    created_at: datetime
    updated_at: datetime
    status: RefundStatus = RefundStatus.PENDING
    stripe_refund_id: str | None = None
    failure_code: str | None = None

    def settled_as(
        self,
        status: RefundStatus,
        now: datetime,
        stripe_refund_id: str | None = None,
        failure_code: str | None = None,
    ) -> Refund:
        return replace(
            self,
            status=status,
            updated_at=now,
            stripe_refund_id=stripe_refund_id or self.stripe_refund_id,
            failure_code=failure_code,
        )
