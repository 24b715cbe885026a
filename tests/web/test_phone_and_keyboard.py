"""The page on a phone, and with a keyboard only; every field has a label."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import BrowserContext, expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import VISA
from tests.web.conftest import PHONE, Shopper, sign_in
from tests.web.helpers import charges


def test_the_phone_layout(context: BrowserContext, web_server: Server, screens: Path) -> None:
    page = context.new_page()
    page.set_viewport_size(PHONE)
    fan = sign_in(page, web_server, screens, "phone")
    fan.fill_cart()
    fan.shot("17-phone-shop")
    page.get_by_role("button", name="Go to checkout").click()
    fan.fill_card(VISA)
    fan.fill_address()
    fan.shot("18-phone-checkout")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "nothing sticks out sideways on a phone"
    fan.pay_button().click()
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    fan.shot("19-phone-payment-complete")


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
    && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.innerText.trim()))
  .map((el) => el.outerHTML)"""


def test_keyboard_only_and_every_field_labelled(shopper: Shopper) -> None:
    page = shopper.page
    keys = page.keyboard
    page.get_by_role("button", name="Add to cart: Livestream ticket").focus()
    keys.press("Enter")
    page.get_by_role("button", name="+ One more Livestream ticket").focus()
    keys.press("Space")
    expect(page.get_by_role("spinbutton", name="Quantity of Livestream ticket")).to_have_value("2")
    page.get_by_role("button", name="Go to checkout").focus()
    keys.press("Enter")

    page.get_by_label("Name on card").focus()
    keys.type("Kim Keys")
    keys.press("Tab")
    expect(page.get_by_label("Card number")).to_be_focused()
    keys.type("4242424242424242")  # Stripe's field moves on by itself: MM, YY, CVC, ZIP
    keys.type("1230")
    keys.type("123")
    keys.type("10001")
    assert page.evaluate(UNLABELLED) == []
    keys.press("Tab")
    save = page.get_by_role("checkbox", name=re.compile("^Save this card to my wallet"))
    expect(save).to_be_focused()
    expect(save).not_to_be_checked()  # pay once, do not keep the card: the default
    keys.press("Tab")
    expect(shopper.pay_button()).to_be_focused()
    keys.press("Enter")
    heading = page.get_by_role("heading", name="Payment complete")
    expect(heading).to_be_focused()  # screen readers hear the outcome
    assert charges(shopper) == [(4400, "succeeded")]
    shopper.go("Wallet")
    expect(page.get_by_text("No saved cards yet")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
