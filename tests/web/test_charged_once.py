"""Charged once: two tabs paying the same cart at once, and a connection dropped mid-payment."""

from __future__ import annotations

import re
import threading
from typing import Any

from playwright.sync_api import WebSocketRoute, expect

from tests.e2e.helpers import VISA
from tests.web.conftest import Shopper
from tests.web.helpers import charges, parse


def test_two_tabs_paying_the_same_cart_at_once_charge_once(shopper: Shopper) -> None:
    tab_a = shopper.page
    shopper.add_card(VISA)
    expect(tab_a.get_by_role("listitem", name="Visa ending in 4242")).to_be_visible()
    shopper.fill_cart()
    tab_a.get_by_role("button", name="Go to checkout").click()
    tab_b = tab_a.context.new_page()  # same browser, same sign-in, same cart
    second = Shopper(tab_b, shopper.user_id, shopper.server, shopper.screens)

    # "At once": each tab's purchase-request is held until both tabs have sent theirs.
    held: list[tuple[WebSocketRoute, str | bytes]] = []
    sent: list[dict[str, Any]] = []

    def relay(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = parse(message)
            if frame.get("action") != "purchase-request":
                server.send(message)
                return
            sent.append(frame)
            held.append((server, message))
            if len(held) == 2:
                for to_server, frame_text in held:
                    to_server.send(frame_text)

        ws.on_message(from_page)

    for tab in (tab_a, tab_b):
        tab.route_web_socket(re.compile(r"/ws\?token="), relay)
    tab_a.reload()
    tab_b.goto(tab_a.url)
    for fan in (shopper, second):
        expect(fan.pay_button()).to_have_text("Pay $192.00")

    shopper.pay_button().click()
    expect(tab_a.get_by_role("button", name="Paying…")).to_be_disabled()
    second.pay_button().click()
    for tab in (tab_a, tab_b):
        expect(tab.get_by_role("heading", name="Payment complete")).to_be_visible()
    ids = [
        tab.get_by_role("region", name="Payment complete").locator("code").first.inner_text()
        for tab in (tab_a, tab_b)
    ]
    assert len(sent) == 2 and sent[0]["requestId"] == sent[1]["requestId"]
    assert ids[0] == ids[1]
    assert charges(shopper) == [(19200, "succeeded")]
    shopper.shot("16-two-tabs-one-charge")


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
