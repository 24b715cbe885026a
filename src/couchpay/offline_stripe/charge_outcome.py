"""Stripe's ``outcome`` on charges, which localstripe 1.15.10 leaves out.

Real Stripe sets ``charge.outcome`` on every card charge once the card network has answered:
``type`` (authorized, issuer_declined, blocked...), ``network_status``, ``reason``,
``risk_level`` (Radar's assessment: normal, elevated, highest, not_assessed, unknown) and,
with Radar for Fraud Teams only, ``risk_score`` (0-99). The offline stand-in answers as Stripe
does for a charge Radar found unremarkable: risk level ``normal`` and no score (it has no Radar
to assess anything). A read-only property, so nothing is stored and old stores load as before.
"""

from __future__ import annotations

from typing import Any


def _outcome(charge: Any) -> dict[str, Any] | None:
    status = getattr(charge, "status", None)
    if status == "succeeded":
        return {
            "type": "authorized",
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "seller_message": "Payment complete.",
        }
    if status == "failed":
        return {
            "type": "issuer_declined",
            "network_status": "declined_by_network",
            "reason": getattr(charge, "failure_code", None) or "generic_decline",
            "risk_level": "normal",
            "seller_message": "The bank did not return any further details with this decline.",
        }
    return None  # pending: the network has not answered yet


def add_charge_outcome() -> None:
    from localstripe import resources

    resources.Charge.outcome = property(_outcome)
