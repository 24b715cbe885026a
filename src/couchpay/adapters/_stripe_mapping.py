"""Turn Stripe responses and errors into couchpay's own types.

Everything here works on plain dicts (``StripeObject.to_dict()``), so no SDK type leaves the
adapter. Messages never carry the API key: Stripe echoes part of a wrong key in its
authentication errors, so those get a fixed sentence.
"""

from __future__ import annotations

from typing import Any

import stripe

from couchpay.domain.cards import CardFacts
from couchpay.domain.errors import (
    CardDeclined,
    CardNotValid,
    GatewayBusy,
    GatewayUnavailable,
    PaymentError,
    PaymentRejected,
)
from couchpay.domain.statuses import PaymentIntentStatus
from couchpay.ports.gateway import PaymentIntentResult, SetupIntentResult

_AUTH_MESSAGE = "The payment provider refused our credentials."


def error_from_stripe(exc: stripe.StripeError) -> PaymentError:
    """The couchpay error for an SDK error (``raise error_from_stripe(e) from e``)."""
    if isinstance(exc, stripe.CardError):
        return CardDeclined(
            card_message(exc),
            code=exc.code or CardDeclined.code,
            payment_intent_id=payment_intent_id_of(exc),
        )
    if isinstance(exc, stripe.IdempotencyError):
        return PaymentRejected(
            "This payment request was already used with different details.",
            code="idempotency_conflict",
        )
    if isinstance(exc, stripe.InvalidRequestError):
        return PaymentRejected()
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return PaymentRejected(_AUTH_MESSAGE)
    if isinstance(exc, stripe.RateLimitError):
        return GatewayBusy()
    if isinstance(exc, stripe.APIConnectionError | stripe.APIError):
        return GatewayUnavailable()
    if exc.http_status is not None and exc.http_status < 500:
        return PaymentRejected()
    return GatewayUnavailable()


def is_missing(exc: stripe.StripeError) -> bool:
    """404 / resource_missing (localstripe answers a bare 404 without a code)."""
    return isinstance(exc, stripe.InvalidRequestError) and (
        exc.code == "resource_missing" or exc.http_status == 404
    )


def card_message(exc: stripe.CardError) -> str:
    """Stripe writes card-error messages for the cardholder; fall back to ours."""
    message = exc.user_message
    return message if isinstance(message, str) and message else CardDeclined.default_message


def _error_body(exc: stripe.StripeError) -> dict[str, Any]:
    body = exc.json_body
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def id_of(value: Any) -> str | None:
    """An id from a field that holds an id, an expanded object (dict or SDK object), or None."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        return id_of(value.get("id"))
    if isinstance(value, stripe.StripeObject):
        return id_of(value.to_dict().get("id"))
    return None


def payment_intent_id_of(exc: stripe.StripeError) -> str | None:
    """Real Stripe names the PaymentIntent in a card error; localstripe does not."""
    if exc.error is not None:
        found = id_of(exc.error.payment_intent)
        if found:
            return found
    return id_of(_error_body(exc).get("payment_intent"))


def charge_id_of(exc: stripe.StripeError) -> str | None:
    if exc.error is not None:
        found = id_of(exc.error.charge)
        if found:
            return found
    return id_of(_error_body(exc).get("charge"))


def card_facts(pm: dict[str, Any]) -> CardFacts:
    card = pm.get("card")
    if pm.get("type") != "card" or not isinstance(card, dict):
        raise CardNotValid("This payment method is not a card.")
    checks = card.get("checks") or {}
    billing = pm.get("billing_details") or {}
    pm_id = str(pm["id"])
    return CardFacts(
        payment_method_id=pm_id,
        # Stripe always fingerprints cards; without one, never merge this card with another.
        fingerprint=str(card.get("fingerprint") or f"unknown:{pm_id}"),
        brand=str(card.get("brand") or "unknown"),
        last_four=str(card.get("last4") or ""),
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
        name_on_card=billing.get("name") or None,
        customer_id=id_of(pm.get("customer")),
        checks_failed="fail" in (checks.get("cvc_check"), checks.get("address_postal_code_check")),
    )


OUTCOME_KEYS = ("type", "network_status", "reason", "risk_level", "risk_score")


def charge_outcome(charge: Any) -> dict[str, Any] | None:
    """Stripe's ``outcome`` of a charge (expanded ``latest_charge``): the network's answer and
    Radar's ``risk_level`` (``risk_score`` with Radar for Fraud Teams only). None when the charge
    was not expanded or the network has not answered."""
    outcome = charge.get("outcome") if isinstance(charge, dict) else None
    if not isinstance(outcome, dict):
        return None
    return {k: outcome.get(k) for k in OUTCOME_KEYS if outcome.get(k) is not None}


def payment_intent_result(
    pi: dict[str, Any],
    *,
    error_code: str | None = None,
    error_message: str | None = None,
) -> PaymentIntentResult:
    try:
        status = PaymentIntentStatus(str(pi.get("status")))
    except ValueError:
        raise GatewayUnavailable("The payment is in a state we do not know yet.") from None
    last_error = pi.get("last_payment_error") or {}
    metadata = {str(k): str(v) for k, v in (pi.get("metadata") or {}).items()}
    summary: dict[str, Any] = {
        "id": pi["id"],
        "status": status.value,
        "amount": pi.get("amount"),
        "currency": pi.get("currency"),
        "created": pi.get("created"),
        "payment_method": id_of(pi.get("payment_method")),
        "latest_charge": id_of(pi.get("latest_charge")),
        "last_payment_error": (
            {"code": last_error.get("code"), "message": last_error.get("message")}
            if last_error
            else None
        ),
        "metadata": metadata,
        "outcome": charge_outcome(pi.get("latest_charge")),
    }
    charge = pi.get("latest_charge")
    refunded = charge.get("amount_refunded") if isinstance(charge, dict) else 0
    return PaymentIntentResult(
        amount_refunded=int(refunded or 0),
        id=str(pi["id"]),
        status=status,
        amount=int(pi.get("amount") or 0),
        currency=str(pi.get("currency") or ""),
        client_secret=pi.get("client_secret")
        if status is PaymentIntentStatus.REQUIRES_ACTION
        else None,
        payment_method_id=summary["payment_method"],
        error_code=error_code or last_error.get("code"),
        error_message=error_message or last_error.get("message"),
        metadata=metadata,
        summary=summary,
    )


def setup_intent_result(seti: dict[str, Any], *, with_secret: bool) -> SetupIntentResult:
    return SetupIntentResult(
        id=str(seti["id"]),
        status=str(seti.get("status")),
        customer_id=id_of(seti.get("customer")),
        payment_method_id=id_of(seti.get("payment_method")),
        client_secret=seti.get("client_secret") if with_secret else None,
        metadata={str(k): str(v) for k, v in (seti.get("metadata") or {}).items()},
    )
