"""Charged once: a second tab waits for the first one's payment, and a connection dropped
mid-payment."""

from __future__ import annotations

import re
import threading
from typing import Any

from playwright.sync_api import WebSocketRoute, expect

from tests.e2e.helpers import VISA
from tests.web.conftest import Shopper
from tests.web.helpers import charges, parse


def test_a_second_tab_waits_for_the_first_and_says_it_paid(shopper: Shopper) -> None:
    """Tab A pays (its reply held back a moment); tab B, same browser and cart, cannot pay the
    same order again meanwhile, and then says it was paid, with the receipt."""
    tab_a = shopper.page
    shopper.add_card(VISA)
    expect(tab_a.get_by_role("listitem", name="Visa ending in 4242")).to_be_visible()
    shopper.fill_cart()
    tab_a.get_by_role("button", name="Go to checkout").click()
    tab_b = tab_a.context.new_page()  # same browser, same sign-in, same cart
    second = Shopper(tab_b, shopper.user_id, shopper.server, shopper.screens)
    held: list[tuple[WebSocketRoute, str | bytes]] = []
    sent: list[dict[str, Any]] = []

    def relay(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = parse(message)
            if frame.get("action") == "purchase-request":
                sent.append(frame)
            server.send(message)

        def from_server(message: str | bytes) -> None:
            if parse(message).get("action", "").startswith("purchase-request-resp"):
                held.append((ws, message))  # sent on when the test says so
                return
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)

    tab_a.route_web_socket(re.compile(r"/ws\?token="), relay)
    tab_a.reload()
    tab_b.goto(tab_a.url)
    expect(second.pay_button()).to_have_text("Pay $192.00")
    shopper.fill_address()
    shopper.pay_button().click()
    waiting = tab_b.get_by_role("status").filter(has_text="checking the outcome of the payment")
    expect(waiting).to_be_visible()
    expect(second.pay_button()).to_be_disabled()
    second.shot("16-second-tab-waits")
    for _ in range(400):  # the service's answer reaches the relay (events run while waiting)
        if held:
            break
        tab_a.wait_for_timeout(50)
    assert held, "the service answered tab A"
    to_page, reply = held.pop()
    to_page.send(reply)
    expect(tab_a.get_by_role("heading", name="Payment complete")).to_be_visible()
    paid_elsewhere = tab_b.get_by_role("status").filter(has_text="Your order is paid")
    expect(paid_elsewhere).to_be_visible()
    paid_elsewhere.get_by_role("button", name="View the receipt").click()
    expect(tab_b.get_by_role("heading", name="Receipt")).to_be_visible()
    expect(tab_b.get_by_role("article", name="Receipt")).to_contain_text("$192.00")
    assert len(sent) == 1
    assert charges(shopper) == [(19200, "succeeded")]


def test_a_dropped_connection_retries_the_purchase_with_the_same_request_id(
    shopper: Shopper,
) -> None:
    page = shopper.page
    shopper.add_card(VISA)
    expect(page.get_by_role("listitem", name="Visa ending in 4242")).to_be_visible()
    shopper.fill_cart()
    page.get_by_role("button", name="Go to checkout").click()

    sent: list[dict[str, Any]] = []
    dropped: list[bool] = []
    network_back = threading.Event()

    def relay(ws: WebSocketRoute) -> None:
        if dropped and not network_back.is_set():
            ws.close(code=1006, reason="no network")  # reconnecting fails for a while
            return
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = parse(message)
            if frame.get("action") == "purchase-request":
                sent.append(frame)
            server.send(message)

        def from_server(message: str | bytes) -> None:
            frame = parse(message)
            if frame.get("action", "").startswith("purchase-request-resp") and not dropped:
                dropped.append(True)  # the charge went through, but the reply is lost
                ws.close(code=1006, reason="network drop")
                return
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)

    page.route_web_socket(re.compile(r"/ws\?token="), relay)
    page.reload()  # the page's socket now goes through the relay
    expect(shopper.pay_button()).to_have_text("Pay $192.00")
    shopper.fill_address()
    shopper.pay_button().click()
    banner = page.get_by_role("status").filter(has_text="Connection lost — reconnecting")
    expect(banner).to_be_visible()
    expect(page.get_by_role("button", name="Paying…")).to_be_disabled()
    shopper.shot("20-connection-lost-while-paying")
    network_back.set()
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    expect(banner).to_have_count(0)
    assert dropped == [True]
    assert len(sent) == 2 and sent[0]["requestId"] == sent[1]["requestId"]
    assert charges(shopper) == [(19200, "succeeded")]
