"""The user's Stripe customer: created once, on first need."""

from __future__ import annotations

from couchpay.domain.cards import User
from couchpay.service.context import Services


def ensure_customer(svc: Services, user: User) -> str:
    """Return the user's Stripe customer id, creating it at Stripe the first time.

    Two racing requests may both create one at Stripe; the store keeps the first and the
    idempotency key (per user) makes real Stripe return the same customer to both."""
    if user.stripe_customer_id:
        return user.stripe_customer_id
    customer_id = svc.gateway.create_customer(user.user_id, f"customer-{user.user_id}")
    stored = svc.store.set_stripe_customer(user.user_id, customer_id)
    return stored.stripe_customer_id or customer_id
