"""The wallet (default card, removing cards) and the purchase history, paged."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.helpers import VISA, VISA_2
from tests.shipping import ADDRESS
from tests.web.conftest import Shopper
from tests.web.helpers import payment_method


def test_history_lists_purchases_newest_first_a_page_at_a_time(shopper: Shopper) -> None:
    page = shopper.page
    card = shopper.call("create-payment-method", {"stripePayment": payment_method(shopper, VISA)})
    items = shopper.call("get-items")["message"]["items"]
    for n in range(12):  # set up through the protocol: this test is about the list
        item = items[n % 3]
        reply = shopper.call(
            "purchase-request",
            {
                "cardId": card["message"]["uuid"],
                "items": [{"item_id": item["itemId"], "price_cents": item["priceCents"]}],
                "shippingAddress": ADDRESS,
            },
        )
        assert reply["action"] == "purchase-request-resp-success", reply
    shopper.fill_cart({"Livestream ticket": 3})  # the 13th, newest, bought in the page
    page.get_by_role("button", name="Go to checkout").click()
    shopper.pay_button().click()
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    page.get_by_role("button", name="See your purchases").click()

    history = page.get_by_role("list", name="Your purchases, newest first")
    rows = history.get_by_role("listitem")
    expect(rows).to_have_count(10)
    expect(rows.first).to_contain_text("Livestream ticket × 3")
    expect(rows.first).to_contain_text("$66.00")
    expect(rows.first).to_contain_text("Paid")
    shopper.shot("14-purchases")
    page.get_by_role("button", name="Show older purchases").click()
    expect(rows).to_have_count(13)
    expect(rows.nth(10)).to_be_focused()  # the button is gone: focus is on what it brought
    expect(page.get_by_role("button", name="Show older purchases")).to_have_count(0)


def test_set_the_default_card_and_delete_cards(shopper: Shopper) -> None:
    page = shopper.page
    shopper.add_card(VISA)
    expect(page.get_by_role("listitem", name="Visa ending in 4242")).to_be_visible()
    shopper.add_card(VISA_2)
    first = page.get_by_role("listitem", name="Visa ending in 4242")
    second = page.get_by_role("listitem", name="Visa ending in 1111")
    expect(second).to_be_visible()
    expect(first).to_contain_text("Default")
    shopper.shot("04-wallet-two-cards")

    second.get_by_role("button", name="Make default: Visa ending in 1111").click()
    expect(second).to_contain_text("Default")
    expect(second).to_be_focused()  # the pressed button is gone: focus stays on its card
    expect(
        page.get_by_role("list").filter(has=first).get_by_role("listitem").first
    ).to_have_accessible_name("Visa ending in 1111")  # the default is listed first

    first.get_by_role("button", name="Remove Visa ending in 4242").click()
    expect(first).to_contain_text("Remove this card?")
    expect(first.get_by_role("button", name="Yes, remove")).to_be_focused()
    shopper.shot("15-wallet-remove-confirm")
    first.get_by_role("button", name="Yes, remove").click()
    expect(
        page.get_by_role("status").filter(has_text="Visa ending in 4242 removed.")
    ).to_be_visible()
    expect(first).to_have_count(0)
    second.get_by_role("button", name="Remove Visa ending in 1111").click()
    second.get_by_role("button", name="Yes, remove").click()
    expect(page.get_by_text("No saved cards yet")).to_be_visible()
    assert shopper.call("get-user-credit-card")["message"]["cards"] == []
