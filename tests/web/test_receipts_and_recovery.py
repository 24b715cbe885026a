"""Issue 13 in Chromium, as a fan would, at desktop and phone size, with axe-core (0 violations)
on every screen visited: the address form for the poster and the receipt at its own URL (after a
reload, printable), a payment's outcome found again after a reload, after being offline and
after a reply that came too late, cards saved only when the payment works, and the shop's cards,
quantities, titles and focus."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, WebSocketRoute, expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import DECLINE_ON_CHARGE, THREE_DS, VISA, intents_for
from tests.web.conftest import DESKTOP, PHONE, Shopper, check_axe, sign_in
from tests.web.helpers import charges, parse

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CODE = re.compile(r"\b[a-z]+(_[a-z]+)+\b")  # card_declined, payment_intent_authentication_failure


def main_text(page: Page) -> str:
    """What the screen says, without the fine print (the order reference for support)."""
    return str(
        page.evaluate(
            "() => { const m = document.querySelector('main').cloneNode(true);"
            " m.querySelectorAll('.small, .fineprint').forEach(e => e.remove());"
            " return m.innerText; }"
        )
    )


def hold_purchase_replies(
    page: Page, also: tuple[str, ...] = ()
) -> list[tuple[WebSocketRoute, str | bytes]]:
    """Relay the page's socket, keeping back the service's first answer to purchase-request
    (the page never sees it unless the test sends it on)."""
    held: list[tuple[WebSocketRoute, str | bytes]] = []

    def relay(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            action = parse(message).get("action", "")
            if action.startswith("purchase-request-resp") and not held:
                held.append((ws, message))
                return
            if action.startswith(also) and also:
                return  # never answered: the page must do without it
            ws.send(message)

        server.on_message(from_server)

    page.route_web_socket(re.compile(r"/ws\?token="), relay)
    return held


def wait_until(page: Page, ready: Any, what: str) -> None:
    for _ in range(400):  # socket events are handled while the page waits
        if ready():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never happened: {what}")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_poster_needs_an_address_which_the_receipt_shows_after_a_reload(
    context: BrowserContext, web_server: Server, screens: Path, size: str
) -> None:
    page = context.new_page()
    page.set_viewport_size(DESKTOP if size == "desktop" else PHONE)
    fan = sign_in(page, web_server, screens, f"post-{size}")
    expect(page).to_have_title("Shop · couchtour.tv")
    shop = page.get_by_role("list").filter(has_text="Tour poster")
    expect(shop).to_contain_text(re.compile(r"Show starts \w+day, March 14, 2027 at 8:00 PM UTC"))
    expect(shop).to_contain_text("$22.00 all-in ($20.00 + $2.00 streaming cost)")
    expect(page.get_by_text("Every order adds a 10% streaming cost")).to_be_visible()
    fan.axe(f"shop ({size})")

    fan.fill_cart({"Tour poster": 1})
    page.get_by_role("button", name="Go to checkout").click()
    expect(page).to_have_title("Checkout · couchtour.tv")
    expect(page.get_by_role("heading", name="Checkout", level=1)).to_be_focused()
    fan.fill_card(VISA)
    fan.pay_button().click()  # no address yet
    form = page.get_by_role("group", name="Ship the poster to")
    expect(form.get_by_label("Full name")).to_be_focused()
    expect(form).to_contain_text("Enter the full name.")
    expect(form).to_contain_text("Enter the street address.")
    assert charges(fan) == []
    fan.axe(f"checkout, address missing ({size})")
    fan.fill_address(Country="FR", City="Paris", **{"Postal or ZIP code": "75001"})
    form.get_by_label("State, province or region (optional)").fill("Île-de-France")
    fan.shot(f"30-address-form-{size}")
    fan.axe(f"checkout, address filled ({size})")
    fan.pay_button().click()

    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    assert CODE.search(main_text(page)) is None and UUID.search(main_text(page)) is None
    fan.axe(f"payment complete ({size})")
    page.get_by_role("button", name="View your receipt").click()
    expect(page).to_have_url(re.compile(r"/purchases/[0-9a-f-]{36}$"))
    receipt = page.get_by_role("article", name="Receipt")
    expect(receipt).to_contain_text("Ada Lovelace")
    expect(receipt).to_contain_text("Paris, Île-de-France 75001")
    expect(receipt).to_contain_text("France")
    expect(receipt).to_contain_text("Visa ending in 4242")
    expect(receipt).to_contain_text("$115.00")  # 100 + 10 + 5 shipping
    expect(page).to_have_title("Receipt · couchtour.tv")
    url = page.url

    page.reload()  # the receipt has its own address
    expect(page).to_have_url(url)
    expect(page.get_by_role("article", name="Receipt")).to_contain_text("France")
    assert UUID.search(main_text(page)) is None  # only in the fine print, for support
    fan.shot(f"31-receipt-{size}")
    fan.axe(f"receipt ({size})")
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("button", name="Print receipt")).to_be_hidden()
    expect(page.get_by_role("article", name="Receipt")).to_be_visible()
    fan.shot(f"32-receipt-print-{size}")
    page.emulate_media(media="screen")

    fan.go("Purchases")
    expect(page).to_have_title("Purchases · couchtour.tv")
    fan.axe(f"purchases ({size})")
    page.get_by_role("link", name=re.compile("^View receipt")).first.click()
    expect(page).to_have_url(url)
    assert charges(fan) == [(11500, "succeeded")]


def test_reload_while_paying_charges_once_and_shows_the_outcome(shopper: Shopper) -> None:
    page = shopper.page
    held = hold_purchase_replies(page)
    page.reload()
    shopper.fill_cart({"Meet and greet": 1})
    page.get_by_role("button", name="Go to checkout").click()
    shopper.fill_card(VISA)
    shopper.pay_button().click()
    wait_until(page, lambda: held, "the service answered (the page never saw it)")
    page.reload()  # mid-payment, from the page's point of view
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    expect(page.get_by_role("region", name="Payment complete")).to_contain_text("$55.00")
    shopper.axe("payment complete after a reload")
    shopper.go("Shop")
    expect(page.get_by_role("complementary", name="Your cart")).to_contain_text(
        "Your cart is empty"
    )
    assert charges(shopper) == [(5500, "succeeded")]


def test_offline_then_online_shows_the_outcome(shopper: Shopper) -> None:
    page = shopper.page
    context = page.context
    held = hold_purchase_replies(page)
    page.reload()
    shopper.fill_cart({"Livestream ticket": 1})
    page.get_by_role("button", name="Go to checkout").click()
    shopper.fill_card(VISA)
    shopper.pay_button().click()
    wait_until(page, lambda: held, "the service answered")
    context.set_offline(True)
    banner = page.get_by_role("status").filter(has_text="You are offline")
    expect(banner).to_be_visible()
    shopper.shot("33-offline-banner")
    shopper.axe("checkout, offline")
    held[0][0].close(code=1006, reason="network gone")  # the reply is lost with the network
    context.set_offline(False)
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    expect(banner).to_have_count(0)
    assert charges(shopper) == [(2200, "succeeded")]


def test_a_reply_after_the_timeout_is_shown(
    context: BrowserContext, web_server: Server, screens: Path
) -> None:
    page = context.new_page()
    page.clock.install()  # the page's 60 s wait for a reply passes at once
    fan = sign_in(page, web_server, screens, "late")
    held = hold_purchase_replies(page, also=("get-purchase-resp",))  # only the late reply tells
    page.reload()
    fan.fill_cart({"Livestream ticket": 1})
    page.get_by_role("button", name="Go to checkout").click()
    fan.fill_card(VISA)
    fan.pay_button().click()
    wait_until(page, lambda: held, "the service answered")
    page.clock.run_for(61_000)
    expect(page.get_by_role("alert").filter(has_text="has not answered yet")).to_be_visible()
    expect(fan.pay_button()).to_be_disabled()  # never a second charge meanwhile
    ws, reply = held[0]
    ws.send(reply)  # the answer, late
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    done = page.get_by_role("region", name="Payment complete")
    expect(done).to_contain_text("Livestream ticket: show starts")  # which show, after paying
    assert charges(fan) == [(2200, "succeeded")]


@pytest.mark.parametrize("number", [DECLINE_ON_CHARGE, THREE_DS])
def test_a_card_is_saved_only_when_the_payment_works(shopper: Shopper, number: str) -> None:
    page = shopper.page
    shopper.fill_cart({"Meet and greet": 1})
    page.get_by_role("button", name="Go to checkout").click()
    shopper.fill_card(number)
    page.get_by_role("checkbox", name=re.compile("^Save this card to my wallet")).check()
    shopper.pay_button().click()
    if number == THREE_DS:
        challenge = page.get_by_role("dialog", name="Your bank’s security check (3-D Secure)")
        challenge.get_by_role("button", name="Fail authentication").click()
    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible()
    text = main_text(page)
    assert CODE.search(text) is None and UUID.search(text) is None, text
    shopper.axe(f"payment failed ({number[-4:]})")
    shopper.go("Wallet")
    expect(page.get_by_text("No saved cards yet")).to_be_visible()
    shopper.axe("wallet, empty")
    assert shopper.call("get-user-credit-card")["message"]["cards"] == []


def test_the_wallet_checks_a_3ds_card_when_saving_it(shopper: Shopper) -> None:
    page = shopper.page
    shopper.add_card(THREE_DS)
    challenge = page.get_by_role("dialog", name="Your bank’s security check (3-D Secure)")
    challenge.get_by_role("button", name="Fail authentication").click()
    expect(page.get_by_role("region", name="Add a card").get_by_role("alert")).not_to_be_empty()
    assert shopper.call("get-user-credit-card")["message"]["cards"] == []
    page.get_by_role("button", name="Save card").click()
    challenge.get_by_role("button", name="Complete authentication").click()
    row = page.get_by_role("listitem", name="Visa ending in 3155")
    expect(row).to_be_visible()
    expect(page.get_by_role("button", name="Save card")).to_be_focused()
    shopper.axe("wallet, one card")


def test_quantity_titles_focus_and_names(shopper: Shopper) -> None:
    page = shopper.page
    keys = page.keyboard
    page.get_by_role("button", name="Add to cart: Tour poster").focus()
    keys.press("Enter")
    box = page.get_by_role("spinbutton", name="Quantity of Tour poster")
    expect(box).to_be_focused()  # the control that replaced "Add to cart"
    keys.press("Backspace")  # on the way to typing 3: nothing is removed
    expect(box).to_have_value("")
    expect(box).to_be_focused()
    keys.type("3")
    keys.press("Enter")
    expect(box).to_have_value("3")
    cart = page.get_by_role("complementary", name="Your cart")
    expect(cart).to_contain_text("× 3")
    box.fill("1")
    keys.press("Tab")  # leaving the box applies it too
    expect(cart).to_contain_text("× 1")
    page.get_by_role("button", name="− Remove Tour poster").click()
    expect(page.get_by_role("button", name="Add to cart: Tour poster")).to_be_focused()

    # the top bar's focus ring stands out from the bar: at least 3:1
    page.get_by_role("link", name="Wallet").focus()
    keys.press("Shift+Tab")
    keys.press("Tab")
    ring, bar = page.evaluate(
        "() => [getComputedStyle(document.activeElement).outlineColor,"
        " getComputedStyle(document.querySelector('.topbar')).backgroundColor]"
    )
    assert contrast(ring, bar) >= 3, (ring, bar)
    keys.press("Enter")
    expect(page).to_have_title("Wallet · couchtour.tv")
    expect(page.get_by_role("heading", name="Wallet", level=1)).to_be_focused()


def contrast(a: str, b: str) -> float:
    def luminance(css: str) -> float:
        r, g, b_ = (int(x) / 255 for x in re.findall(r"\d+", css)[:3])

        def channel(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b_)

    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_sign_in_screen_passes_axe(context: BrowserContext, web_server: Server) -> None:
    page = context.new_page()
    page.goto(web_server.url + "/")
    page.get_by_label("User name").wait_for()
    check_axe(page, "sign in")


def test_the_axe_check_fails_on_a_real_violation(
    context: BrowserContext, web_server: Server
) -> None:
    """The check above can fail: the old "Add to cart" label (name not starting with the
    visible text) is reported."""
    page = context.new_page()
    page.goto(web_server.url + "/")
    page.get_by_label("User name").wait_for()
    page.evaluate(
        "() => { const b = document.createElement('button');"
        " b.textContent = 'Add to cart'; b.setAttribute('aria-label', 'Add Tour poster to cart');"
        " document.querySelector('main').append(b); }"
    )
    with pytest.raises(AssertionError, match="label-content-name-mismatch"):
        check_axe(page, "a planted violation")


def test_an_email_at_sign_in_gets_the_receipt(
    context: BrowserContext, web_server: Server, screens: Path
) -> None:
    page = context.new_page()
    page.goto(web_server.url + "/")
    expect(page).to_have_title("Sign in · couchtour.tv")
    user_id = f"mailed-{abs(hash(page)) % 10**9}"
    page.get_by_label("User name").fill(user_id)
    page.get_by_label("Email for receipts (optional)").fill("fan@example.com")
    page.get_by_label("User name").press("Enter")
    fan = Shopper(page, user_id, web_server, screens)
    fan.fill_cart({"Livestream ticket": 1})
    page.get_by_role("button", name="Go to checkout").click()
    fan.fill_card(VISA)
    fan.pay_button().click()
    page.get_by_role("button", name="View your receipt").click()
    expect(page.get_by_role("article", name="Receipt")).to_contain_text("Emailed tofan@example.com")
    [intent] = intents_for(web_server, user_id)
    assert intent["receipt_email"] == "fan@example.com"
