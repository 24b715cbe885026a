"""PaymentIntent parameters real Stripe takes and localstripe 1.15.10 refuses ("Unexpected ..."):
``shipping``, ``receipt_email``, ``setup_future_usage`` and ``description``.

The offline stand-in accepts them, checks their shape the way Stripe does (a 400 otherwise), and
keeps them on the PaymentIntent, so they come back when it is read (tests check what was sent).
It does not email anything; ``setup_future_usage`` is recorded only (couchpay attaches the card
itself once the payment has succeeded, which is what Stripe's attach-on-success amounts to)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")


def _shipping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise ValueError("shipping needs a name")
    address = value.get("address")
    if not isinstance(address, dict) or not isinstance(address.get("line1"), str):
        raise ValueError("shipping needs address[line1]")
    if set(address) - set(ADDRESS_FIELDS):
        raise ValueError("unknown shipping address field")
    return {
        "name": value["name"],
        "phone": value.get("phone"),
        "carrier": None,
        "tracking_number": None,
        "address": {name: address.get(name) or None for name in ADDRESS_FIELDS},
    }


def _extra(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Take our parameters out of ``kwargs``; raise ValueError for a malformed one."""
    kept: dict[str, Any] = {
        "shipping": None,
        "receipt_email": None,
        "setup_future_usage": None,
        "description": None,
    }
    if "shipping" in kwargs:
        kept["shipping"] = _shipping(kwargs.pop("shipping"))
    for name in ("receipt_email", "description"):
        if name in kwargs:
            value = kwargs.pop(name)
            if not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
            kept[name] = value
    if "setup_future_usage" in kwargs:
        usage = kwargs.pop("setup_future_usage")
        if usage not in ("on_session", "off_session"):
            raise ValueError("setup_future_usage must be on_session or off_session")
        kept["setup_future_usage"] = usage
    return kept


def accept_payment_intent_params() -> None:
    from localstripe import resources
    from localstripe.errors import UserError

    original: Callable[..., None] = resources.PaymentIntent.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            kept = _extra(kwargs)
        except ValueError as exc:
            raise UserError(400, f"Bad request: {exc}") from exc
        original(self, *args, **kwargs)
        for name, value in kept.items():
            setattr(self, name, value)

    resources.PaymentIntent.__init__ = __init__
