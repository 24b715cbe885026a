"""What the browser's Stripe.js does against localstripe, over plain HTTP, for tests.

Only the publishable key is used, as in a browser: card numbers go to "Stripe", never to us.
(localstripe 1.15.10 refuses publishable keys on ``POST /v1/payment_methods``; our launcher,
``couchpay.offline_stripe.server``, accepts them there as real Stripe does.)
"""

from __future__ import annotations

from typing import Any

import httpx

PUBLISHABLE_KEY = "pk_test_couchpay"


def _post(url: str, **kwargs: Any) -> dict[str, Any]:
    response = httpx.post(url, timeout=10.0, trust_env=False, **kwargs)
    body: dict[str, Any] = response.json()
    if response.status_code != 200:
        raise AssertionError(f"POST {url} -> HTTP {response.status_code}: {body}")
    return body


def create_payment_method(
    api_base: str,
    number: str,
    exp_month: int = 12,
    exp_year: int = 2030,
    cvc: str = "123",
    name: str | None = None,
) -> dict[str, Any]:
    """``stripe.createPaymentMethod({type: 'card', card, billing_details})``."""
    form = {
        "key": PUBLISHABLE_KEY,
        "type": "card",
        "card[number]": number,
        "card[exp_month]": str(exp_month),
        "card[exp_year]": str(exp_year),
        "card[cvc]": cvc,
    }
    if name is not None:
        form["billing_details[name]"] = name
    return _post(f"{api_base}/v1/payment_methods", data=form)


def authenticate_payment_intent(
    api_base: str, pi_id: str, client_secret: str, success: bool
) -> dict[str, Any]:
    """``stripe.confirmCardPayment(clientSecret)``: the 3-D Secure modal, completed or failed."""
    return _post(
        f"{api_base}/v1/payment_intents/{pi_id}/_authenticate",
        params={"success": "true" if success else "false"},
        json={"key": PUBLISHABLE_KEY, "client_secret": client_secret},
    )


def confirm_setup_intent(
    api_base: str, seti_id: str, client_secret: str, payment_method_id: str
) -> dict[str, Any]:
    """``stripe.confirmCardSetup(clientSecret, {payment_method: pmId})``."""
    return _post(
        f"{api_base}/v1/setup_intents/{seti_id}/confirm",
        json={
            "key": PUBLISHABLE_KEY,
            "use_stripe_sdk": True,
            "client_secret": client_secret,
            "payment_method": payment_method_id,
        },
    )
