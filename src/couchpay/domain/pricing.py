"""Cart totals in integer cents. Rates are configuration, never floats."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from couchpay.domain.catalog import CatalogItem

DEFAULT_STREAMING_RATE = Fraction(10, 100)
MAX_CHARGE_CENTS = 99_999_999  # Stripe's largest charge in USD: $999,999.99

MIN_CHARGE_MINOR_UNITS: dict[str, int] = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50,
    "czk": 1500, "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50,
    "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200,
    "sek": 300, "sgd": 50, "thb": 1000,
}  # fmt: skip
"""Stripe's documented minimum charge per currency, in the currency's minor unit (jpy has no
minor unit: 50 yen). A smaller total is refused by Stripe, so we refuse it first."""
DEFAULT_MIN_CHARGE = 50
"""For a currency not in the table: the usual 50 minor units."""


def minimum_charge(currency: str) -> int:
    return MIN_CHARGE_MINOR_UNITS.get(currency.lower(), DEFAULT_MIN_CHARGE)


@dataclass(frozen=True)
class CartLine:
    item: CatalogItem
    quantity: int

    @property
    def line_cents(self) -> int:
        return self.item.price_cents * self.quantity


@dataclass(frozen=True)
class Totals:
    subtotal_cents: int
    streaming_cost_cents: int
    shipping_cents: int

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + self.streaming_cost_cents + self.shipping_cents


def round_half_up(value: Fraction) -> int:
    """Round a non-negative exact fraction of cents to whole cents, halves going up."""
    if value < 0:
        raise ValueError("amounts are never negative")
    whole, rest = divmod(value.numerator, value.denominator)
    return whole + (1 if 2 * rest >= value.denominator else 0)


def price_cart(lines: list[CartLine], streaming_rate: Fraction = DEFAULT_STREAMING_RATE) -> Totals:
    """subtotal = Σ price × qty; streaming = rate × subtotal (half up); shipping = Σ ship × qty."""
    subtotal = sum(line.line_cents for line in lines)
    shipping = sum(line.item.shipping_cents * line.quantity for line in lines)
    streaming = round_half_up(Fraction(subtotal) * streaming_rate)
    return Totals(subtotal, streaming, shipping)
