"""Buying in Chromium: sign in, save a card, the $192.00 demo cart, a new card at checkout,
3-D Secure accepted and failed, declines, a payment still processing."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import BrowserContext, WebSocketRoute, expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import DECLINE, DECLINE_ON_CHARGE, THREE_DS, VISA, VISA_2
from tests.web.conftest import Shopper, sign_in
from tests.web.helpers import charges, parse


def test_sign_in_save_a_card_and_buy_the_demo_cart(
    context: BrowserContext, web_server: Server, screens: Path
) -> None:
    fan = sign_in(context.new_page(), web_server, screens, "alice", shot="01-sign-in")
    page = fan.page
    fan.shot("02-shop")

    fan.fill_cart()
    cart = page.get_by_role("complementary", name="Your cart")
    expect(cart.get_by_test_id("total")).to_have_text("$192.00")
    expect(cart).to_contain_text("$170.00")  # subtotal
    expect(cart).to_contain_text("$17.00")  # streaming cost, 10 %
    expect(cart).to_contain_text("$5.00")  # shipping of the poster
    fan.shot("03-shop-cart-192")

    fan.add_card(VISA, name="Alice Fan")
    expect(page.get_by_role("status").filter(has_text="saved to your wallet")).to_be_visible()
    expect(page.get_by_role("listitem", name="Visa ending in 4242")).to_contain_text("Default")
    fan.shot("05-wallet-one-card")

    fan.go("Shop")
    page.get_by_role("button", name="Go to checkout").click()
    expect(page.get_by_role("radio", name=re.compile("Visa ending in 4242"))).to_be_checked()
    fan.fill_address()
    pay = fan.pay_button()
    expect(pay).to_have_text("Pay $192.00")
    fan.shot("06-checkout-saved-card")
    pay.dblclick()  # a double click pays once
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    result = page.get_by_role("region", name="Payment complete")
    expect(result).to_contain_text("You paid $192.00 with")
    expect(result).to_contain_text("Visa ending in 4242")
    expect(result.get_by_test_id("total")).to_have_text("$192.00")
    fan.shot("07-payment-complete")
    assert charges(fan) == [(19200, "succeeded")]
    # the cart is empty again
    expect(page.get_by_role("link", name="Shop")).to_have_text("Shop")


def test_a_new_card_at_checkout_saved_to_the_wallet(shopper: Shopper) -> None:
    page = shopper.page
    shopper.fill_cart({"Livestream ticket": 2})
    page.get_by_role("button", name="Go to checkout").click()
    expect(page.get_by_role("radio", name="A new card")).to_be_checked()  # empty wallet
    shopper.fill_card("4242 4242 4242 4241")  # a typo: Luhn fails, as Stripe.js says
    expect(
        page.get_by_role("alert").filter(has_text="Your card number is invalid.")
    ).to_be_visible()
    shopper.shot("08-checkout-new-card-typo")
    shopper.fill_card(VISA_2)
    page.get_by_label("Name on card").fill("Sam Fan")
    save = page.get_by_role("checkbox", name=re.compile("^Save this card to my wallet"))
    expect(save).not_to_be_checked()  # the fan opts in
    save.check()
    shopper.shot("09-checkout-new-card")
    shopper.pay_button().click()
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    expect(page.get_by_role("region", name="Payment complete")).to_contain_text("$44.00")
    assert charges(shopper) == [(4400, "succeeded")]
    shopper.go("Wallet")
    expect(page.get_by_role("listitem", name="Visa ending in 1111")).to_contain_text("Sam Fan")


def test_three_d_secure_accepted_then_failed(shopper: Shopper) -> None:
    page = shopper.page
    shopper.add_card(THREE_DS)  # saved through a SetupIntent: the bank checks it once here
    setup_check = page.get_by_role("dialog", name="Your bank’s security check (3-D Secure)")
    setup_check.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_role("listitem", name="Visa ending in 3155")).to_be_visible()

    shopper.fill_cart()
    page.get_by_role("button", name="Go to checkout").click()
    shopper.fill_address()
    shopper.pay_button().click()
    challenge = page.get_by_role("dialog", name="Your bank’s security check (3-D Secure)")
    expect(challenge).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Your bank wants to confirm")).to_be_visible()
    expect(page.get_by_role("button", name="Paying…")).to_be_disabled()
    shopper.shot("10-3ds-challenge")
    challenge.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    assert charges(shopper) == [(19200, "succeeded")]

    shopper.fill_cart({"Meet and greet": 1})
    page.get_by_role("button", name="Go to checkout").click()
    shopper.pay_button().click()
    challenge.get_by_role("button", name="Fail authentication").click()
    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible()
    failed = page.get_by_role("region", name="Payment failed")
    expect(failed).to_contain_text("security check (3-D Secure) was not passed")
    expect(failed).to_contain_text("You were not charged the $55.00")
    shopper.shot("11-payment-failed-3ds")
    assert sorted(charges(shopper)) == [(5500, "requires_payment_method"), (19200, "succeeded")]
    # the cart is still there: try again with another card
    failed.get_by_role("button", name="Try again").click()
    expect(shopper.pay_button()).to_have_text("Pay $55.00")


def test_declined_cards_say_why(shopper: Shopper) -> None:
    page = shopper.page
    shopper.add_card(DECLINE)  # declined by the bank when saved
    card_error = page.get_by_role("region", name="Add a card").get_by_role("alert")
    expect(card_error).to_have_text(re.compile("Your bank declined this card"))
    expect(page.get_by_text("No saved cards yet")).to_be_visible()
    shopper.shot("12-wallet-card-declined")

    shopper.fill_cart({"Tour poster": 1})
    page.get_by_role("button", name="Go to checkout").click()
    shopper.fill_card(DECLINE_ON_CHARGE)  # accepted by Stripe.js, declined when charged
    shopper.fill_address()
    shopper.pay_button().click()
    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible()
    failed = page.get_by_role("region", name="Payment failed")
    expect(failed).to_contain_text("Your bank declined this card")
    expect(failed).not_to_contain_text("card_declined")  # words, not codes
    shopper.shot("13-payment-failed-declined")
    assert [status for _, status in charges(shopper)] != ["succeeded"]


def test_a_payment_still_processing_updates_by_itself(shopper: Shopper) -> None:
    """When Stripe has not answered, the service replies `payment_processing` and settles the
    purchase later (webhook), pushing the outcome to the user's open pages. The relay here holds
    back the real reply and sends what the service says in that case, then the push."""
    page = shopper.page
    shopper.add_card(VISA)
    expect(page.get_by_role("listitem", name="Visa ending in 4242")).to_be_visible()
    shopper.fill_cart({"Meet and greet": 1})
    page.get_by_role("button", name="Go to checkout").click()
    held: list[str | bytes] = []
    to_page: list[WebSocketRoute] = []

    def relay(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        to_page.append(ws)

        def from_server(message: str | bytes) -> None:
            frame = parse(message)
            if frame.get("action") == "purchase-request-resp-success" and not held:
                held.append(message)
                pending = {
                    "transactionId": frame["message"]["transactionId"],
                    "status": "pending",
                    "code": "payment_processing",
                    "error": "The payment is still being processed; you will not be charged twice.",
                }
                reply = {**frame, "action": "purchase-request-resp-failure", "message": pending}
                ws.send(json.dumps(reply))
                return
            ws.send(message)

        server.on_message(from_server)

    page.route_web_socket(re.compile(r"/ws\?token="), relay)
    page.reload()
    shopper.pay_button().click()
    expect(page.get_by_role("heading", name="Payment processing")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("You will not be charged twice")
    shopper.shot("21-payment-processing")
    to_page[-1].send(held[0])  # the settlement push (same frame the service pushes)
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    expect(page.get_by_role("region", name="Payment complete")).to_contain_text("$55.00")
