"""Shared by the browser tests (fixtures and the Shopper are in conftest.py)."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.helpers import intents_for
from tests.stripe_browser import create_payment_method
from tests.web.conftest import Shopper


def charges(shopper: Shopper) -> list[tuple[int, str]]:
    """(amount, status) of every PaymentIntent this user has at (local) Stripe."""
    return [(pi["amount"], pi["status"]) for pi in intents_for(shopper.server, shopper.user_id)]


def payment_method(shopper: Shopper, number: str) -> dict[str, object]:
    return create_payment_method(shopper.server.stripe_api_base, number)


def parse(message: str | bytes) -> dict[str, Any]:
    try:
        value = json.loads(message)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
