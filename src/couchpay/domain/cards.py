"""Cards in a user's wallet. Card numbers never get here: only Stripe ids and display facts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from couchpay.domain.statuses import CardStatus


def past_expiry(exp_year: int, exp_month: int, now: datetime) -> bool:
    """The one expiry rule: a card is good through the last day of its expiry month."""
    return (exp_year, exp_month) < (now.year, now.month)


@dataclass(frozen=True)
class CardFacts:
    """What Stripe tells us about a PaymentMethod (never what the client claims)."""

    payment_method_id: str
    fingerprint: str
    brand: str
    last_four: str
    exp_month: int
    exp_year: int
    name_on_card: str | None = None
    customer_id: str | None = None
    checks_failed: bool = False


@dataclass(frozen=True)
class Card:
    card_id: str
    user_id: str
    stripe_customer_id: str
    card_token: str
    fingerprint: str
    brand: str
    last_four: str
    exp_month: int
    exp_year: int
    name_on_card: str | None
    created_at: datetime
    updated_at: datetime
    active: bool = True
    status: CardStatus = CardStatus.LIVE

    def is_expired(self, now: datetime) -> bool:
        return past_expiry(self.exp_year, self.exp_month, now)

    def effective_status(self, now: datetime) -> CardStatus:
        if self.status is CardStatus.LIVE and self.is_expired(now):
            return CardStatus.EXPIRED
        return self.status

    def usable(self, now: datetime) -> bool:
        return self.active and self.effective_status(now) is CardStatus.LIVE

    def refreshed(self, facts: CardFacts, now: datetime) -> Card:
        return replace(
            self,
            card_token=facts.payment_method_id,
            brand=facts.brand,
            last_four=facts.last_four,
            exp_month=facts.exp_month,
            exp_year=facts.exp_year,
            name_on_card=facts.name_on_card or self.name_on_card,
            updated_at=now,
        )

    def cancelled(self, now: datetime) -> Card:
        return replace(self, active=False, status=CardStatus.CANCELLED, updated_at=now)


@dataclass(frozen=True)
class User:
    user_id: str
    created_at: datetime
    stripe_customer_id: str | None = None
    default_card_id: str | None = None


def wallet_order(cards: list[Card], default_card_id: str | None, now: datetime) -> list[Card]:
    """Usable cards only; the default first, then newest first."""
    usable = [c for c in cards if c.usable(now)]
    usable.sort(key=lambda c: c.created_at, reverse=True)
    usable.sort(key=lambda c: c.card_id != default_card_id)
    return usable
