"""Stripe's Dispute object -> our ``DisputeResult``, at the adapter boundary.

Works on plain dicts (``StripeObject.to_dict()``); no SDK type leaves. A status this code does
not know is an error (``GatewayUnavailable``: the webhook answers 5xx and Stripe delivers the
event again), never a guess. Stripe's times are Unix seconds; ours are aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from couchpay.adapters._stripe_mapping import id_of
from couchpay.domain.disputes import Dispute, DisputeStatus
from couchpay.domain.errors import GatewayUnavailable
from couchpay.ports.gateway import DisputeResult


def _time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(int(value), UTC)
    return None


def dispute_result(dp: dict[str, Any]) -> DisputeResult:
    try:
        status = DisputeStatus(str(dp.get("status")))
    except ValueError:
        raise GatewayUnavailable("The dispute is in a state we do not know yet.") from None
    evidence = dp.get("evidence_details") or {}
    created = _time(dp.get("created")) or datetime.fromtimestamp(0, UTC)
    dispute = Dispute(
        dispute_id=str(dp["id"]),
        charge_id=id_of(dp.get("charge")) or "",
        amount_cents=int(dp.get("amount") or 0),
        currency=str(dp.get("currency") or ""),
        reason=str(dp.get("reason") or "general"),
        status=status,
        evidence_due_by=_time(evidence.get("due_by")),
        created_at=created,
        updated_at=created,
        evidence_submissions=int(evidence.get("submission_count") or 0),
    )
    return DisputeResult(dispute, id_of(dp.get("payment_intent")))
