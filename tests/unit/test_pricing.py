from fractions import Fraction

import pytest

from couchpay.domain.catalog import DEMO_CATALOG, CatalogItem, ItemKind
from couchpay.domain.pricing import CartLine, price_cart, round_half_up

LIVESTREAM, MEET, POSTER = DEMO_CATALOG


def test_the_notes_example_is_exactly_19200_cents() -> None:
    totals = price_cart([CartLine(LIVESTREAM, 1), CartLine(MEET, 1), CartLine(POSTER, 1)])
    assert (totals.subtotal_cents, totals.streaming_cost_cents, totals.shipping_cents) == (
        17000,
        1700,
        500,
    )
    assert totals.total_cents == 19200


def test_quantities_multiply_price_and_shipping() -> None:
    totals = price_cart([CartLine(POSTER, 3), CartLine(LIVESTREAM, 2)])
    assert totals.subtotal_cents == 3 * 10000 + 2 * 2000
    assert totals.shipping_cents == 3 * 500
    assert totals.total_cents == 34000 + 3400 + 1500


@pytest.mark.parametrize(
    ("price", "streaming"),
    [(5, 1), (4, 0), (15, 2), (25, 3), (14, 1), (105, 11), (99_999_999, 10_000_000)],
)
def test_streaming_cost_rounds_half_up(price: int, streaming: int) -> None:
    item = CatalogItem("x", "x", ItemKind.LIVESTREAM, price)
    assert price_cart([CartLine(item, 1)]).streaming_cost_cents == streaming


def test_rate_is_configuration() -> None:
    totals = price_cart([CartLine(MEET, 1)], streaming_rate=Fraction(25, 100))
    assert totals.streaming_cost_cents == 1250


def test_round_half_up_refuses_negative_amounts() -> None:
    assert round_half_up(Fraction(5, 2)) == 3
    with pytest.raises(ValueError, match="never negative"):
        round_half_up(Fraction(-1, 2))


def test_empty_cart_costs_nothing() -> None:
    assert price_cart([]).total_cents == 0
