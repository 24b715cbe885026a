"""Listing a customer's PaymentIntents, page by page, on a ``stripe.StripeClient``.

Used to find a PaymentIntent by our transaction id when its id was never stored (a lost answer).
localstripe can neither filter by customer nor search, so when the filter is refused every
PaymentIntent is listed. SDK errors are raised as they are: the gateway maps them."""

from __future__ import annotations

from typing import Any

import stripe


def intents_of(client: stripe.StripeClient, customer_id: str | None) -> list[dict[str, Any]]:
    """The customer's PaymentIntents (every PaymentIntent when the server cannot filter)."""
    params: dict[str, Any] = {"limit": 100}
    found: list[dict[str, Any]] = []
    filtered = customer_id is not None
    while True:
        try:
            page = client.v1.payment_intents.list(
                {**params, "customer": customer_id} if filtered else params  # type: ignore[arg-type]
            ).to_dict()
        except stripe.InvalidRequestError:
            if not filtered:
                raise
            filtered = False  # localstripe: "Unexpected customer"
            continue
        data = page.get("data") or []
        found += data
        if not page.get("has_more") or not data:
            return found
        params["starting_after"] = data[-1]["id"]
