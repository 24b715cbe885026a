"""The page prices with what `get-items` says the service charges with, not with a rate or a
currency of its own: a server configured for 12.5 % in euros shows and charges €196.25 for the
demo cart (EUR 170 + 12.5 % + EUR 5 shipping), everywhere the page shows totals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.conftest import Server, running_server
from tests.e2e.helpers import VISA
from tests.web.conftest import sign_in
from tests.web.helpers import charges


@pytest.fixture(scope="module")
def euro_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("couchpay-web-eur")
    env = {"COUCHPAY_STREAMING_RATE": "12.5%", "COUCHPAY_CURRENCY": "eur"}
    with running_server(data_dir, env) as server:
        yield server


def test_totals_use_the_rate_and_currency_of_get_items(
    context: BrowserContext, euro_server: Server, screens: Path
) -> None:
    fan = sign_in(context.new_page(), euro_server, screens, "euro")
    page = fan.page
    expect(page.get_by_role("list").filter(has_text="Tour poster")).to_contain_text(
        "€112.50 all-in (€100.00 + €12.50 streaming cost) + €5.00 shipping"
    )

    fan.fill_cart()
    cart = page.get_by_role("complementary", name="Your cart")
    expect(cart.get_by_test_id("total")).to_have_text("€196.25")
    expect(cart).to_contain_text("Streaming cost (12.5%)€21.25")
    expect(cart).not_to_contain_text("$")
    fan.shot("22-shop-cart-eur-12-5")

    page.get_by_role("button", name="Go to checkout").click()
    summary = page.get_by_role("complementary", name="Order summary")
    expect(summary).to_contain_text("Streaming cost (12.5%)€21.25")
    pay = page.get_by_role("button", name=re.compile(r"^Pay "))
    expect(pay).to_have_text("Pay €196.25")
    fan.fill_card(VISA)
    fan.fill_address()
    pay.click()

    result = page.get_by_role("region", name="Payment complete")
    expect(result).to_contain_text("You paid €196.25 with")
    expect(result).to_contain_text("Streaming cost (12.5%)€21.25")
    expect(result.get_by_test_id("total")).to_have_text("€196.25")
    assert charges(fan) == [(19625, "succeeded")]

    fan.go("Purchases")
    expect(page.get_by_role("list", name="Your purchases, newest first")).to_contain_text("€196.25")
