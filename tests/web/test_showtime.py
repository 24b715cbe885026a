"""Showtime in the browser: the line screen while a purchase waits in the admission line (also
after a reload), `busy` and `sold_out` in plain words, and limited items in the shop.

A real line: a dedicated `couchpay serve` whose line sends one purchase to Stripe every 5 s
(COUCHPAY_STRIPE_RATE=0.2); other fans' purchases, sent over the protocol first, fill the places
ahead of the page's. No timing assertions: the tests wait for visible text.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from tests.e2e.conftest import Server, running_server
from tests.e2e.helpers import VISA
from tests.web.conftest import DESKTOP, PHONE, Shopper, sign_in
from tests.web.helpers import charges, parse, payment_method

IN_LINE = re.compile(r"You're in line — #(\d+), about \d+ (s|min)")
LINE_OR_BANK = re.compile(r"You're in line|Your payment is with the bank now")
LINE_WAIT = 120_000  # ms: the outcome comes once the purchases ahead went to Stripe, 5 s each
CLI = [sys.executable, "-m", "couchpay.entrypoints.cli"]
NOT_TWICE = "You will not be charged twice; keep this page open or come back later."

# Every change of the page's line region, as the fan would have seen it.
RECORD_LINE = """() => {
  window.__lineTexts = [];
  const seen = () => document.querySelectorAll('.line-status').forEach((el) => {
    const text = el.textContent || '';
    if (text && window.__lineTexts.at(-1) !== text) window.__lineTexts.push(text);
  });
  new MutationObserver(seen).observe(document.body,
    {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose line sends one purchase to Stripe every 5 seconds."""
    env = {"COUCHPAY_STRIPE_RATE": "0.2"}
    with running_server(tmp_path_factory.mktemp("couchpay-showtime"), env) as server:
        yield server


def new_fan(
    browser: Browser, server: Server, screens: Path, name: str, size: dict[str, int]
) -> Shopper:
    context = browser.new_context(viewport=size, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(60_000)  # a wait in line is longer than a click
    return sign_in(context.new_page(), server, screens, name)


def items(fan: Shopper) -> dict[str, dict[str, Any]]:
    reply = fan.call("get-items")
    assert reply["action"] == "get-items-resp-success", reply
    return {i["name"]: i for i in reply["message"]["items"]}


def fill_the_line(fan: Shopper, how_many: int) -> None:
    """Other fans buy a livestream ticket first: one goes to Stripe, the rest wait in line."""
    ticket = items(fan)["Livestream ticket"]
    line = [{"item_id": ticket["itemId"], "price_cents": ticket["priceCents"], "quantity": 1}]
    for n in range(how_many):
        other = Shopper(fan.page, f"early-{n}-{time.time_ns() % 10**9}", fan.server, fan.screens)
        reply = other.call(
            "purchase-request",
            {"stripePayment": payment_method(fan, VISA), "items": line},
            outcome=False,  # its place in line is enough
        )
        assert reply["action"] in {
            "purchase-request-resp-success",
            "purchase-request-resp-queued",
        }, reply


def positions(page: Page) -> list[int]:
    """The places the page showed, in order (0: with the bank)."""
    shown: list[int] = []
    for text in page.evaluate("window.__lineTexts"):
        if "with the bank now" in text:
            shown.append(0)
        elif m := IN_LINE.search(text):
            shown.append(int(m.group(1)))
    return shown


def start_paying(fan: Shopper, ahead: int) -> None:
    """A livestream ticket with a new card; Pay pressed once `ahead` purchases are in front."""
    fan.fill_cart({"Livestream ticket": 1})
    fan.page.get_by_role("button", name="Go to checkout").click()
    fan.fill_card(VISA)
    fan.page.evaluate(RECORD_LINE)
    fill_the_line(fan, ahead)
    fan.pay_button().click()


def test_the_line_screen_counts_down_to_the_outcome(
    browser: Browser, slow_server: Server, screens: Path
) -> None:
    fan = new_fan(browser, slow_server, screens, "showtime", DESKTOP)
    page = fan.page
    start_paying(fan, ahead=3)
    where = page.get_by_role("status").filter(has_text=IN_LINE)
    expect(where).to_be_visible()
    expect(where).to_contain_text(NOT_TWICE)
    expect(where).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("button", name="Paying…")).to_be_disabled()
    fan.shot("40-in-line-desktop")
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible(timeout=LINE_WAIT)
    expect(page.get_by_text(LINE_OR_BANK)).to_have_count(0)  # the outcome replaced it
    shown = positions(page)
    assert shown and max(shown) >= 1, page.evaluate("window.__lineTexts")
    assert shown == sorted(shown, reverse=True), f"the place never goes up: {shown}"
    assert charges(fan) == [(2200, "succeeded")]
    page.context.close()


def test_a_reload_while_in_line_comes_back_to_the_line_and_the_outcome(
    browser: Browser, slow_server: Server, screens: Path
) -> None:
    fan = new_fan(browser, slow_server, screens, "showtime-phone", PHONE)
    page = fan.page
    start_paying(fan, ahead=4)
    expect(page.get_by_role("status").filter(has_text=IN_LINE)).to_be_visible()
    page.reload()
    where = page.get_by_role("status").filter(has_text=LINE_OR_BANK)
    expect(where).to_be_visible()
    expect(where).to_contain_text(NOT_TWICE)
    expect(fan.pay_button()).to_be_disabled()  # this order is still being paid
    page.evaluate(RECORD_LINE)  # the moves pushed to the new socket from here on
    fan.shot("41-in-line-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "nothing sticks out sideways on a phone"
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible(timeout=LINE_WAIT)
    expect(page.get_by_text(LINE_OR_BANK)).to_have_count(0)
    shown = positions(page)
    assert shown, f"the new socket heard the line move: {page.evaluate('window.__lineTexts')}"
    assert shown == sorted(shown, reverse=True), f"the place never goes up: {shown}"
    assert charges(fan) == [(2200, "succeeded")]
    page.context.close()


def set_capacity(server: Server, item_id: str, capacity: int) -> None:
    subprocess.run(
        [*CLI, "catalog", "update", item_id, "--capacity", str(capacity)],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")},
            "COUCHPAY_DATA_DIR": str(server.data_dir),
        },
        check=True,
        capture_output=True,
    )


def test_a_sold_out_item_says_so_and_cannot_be_added(
    browser: Browser, slow_server: Server, screens: Path
) -> None:
    fan = new_fan(browser, slow_server, screens, "sold-out", DESKTOP)
    page = fan.page
    catalog = items(fan)
    fan.fill_cart({"Meet and greet": 1})
    page.get_by_role("button", name="Go to checkout").click()
    fan.fill_card(VISA)
    set_capacity(slow_server, catalog["Meet and greet"]["itemId"], 0)  # sold while paying
    set_capacity(slow_server, catalog["Tour poster"]["itemId"], 3)
    fan.pay_button().click()
    expect(page.get_by_role("alert").filter(has_text="just sold out")).to_be_visible()
    expect(page.get_by_text("sold_out")).to_have_count(0)
    fan.go("Shop")
    expect(page.get_by_text("Sold out", exact=True)).to_be_visible()  # still in the cart
    expect(page.get_by_role("button", name="+ One more Meet and greet")).to_be_disabled()
    expect(page.get_by_text("3 left")).to_be_visible()
    page.get_by_role("button", name="− Remove Meet and greet").click()
    sold_out = page.get_by_role("button", name="Sold out: Meet and greet")
    expect(sold_out).to_be_disabled()
    expect(sold_out).to_have_text("Sold out")
    fan.shot("42-sold-out")
    assert charges(fan) == []
    page.context.close()


def frame_id(frame: dict[str, Any]) -> dict[str, Any]:
    return {"requestId": frame["requestId"]}


def test_busy_says_nothing_was_charged_and_the_next_pay_is_a_new_order(
    shopper: Shopper,
) -> None:
    """The line was full (`busy`, the service's answer stood in for by the relay): plain words,
    and paying again is a new order."""
    page = shopper.page
    sent: list[str] = []

    def relay(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = parse(message)
            if frame.get("action") == "purchase-request" and not sent:
                sent.append(frame["requestId"])
                busy = {"code": "busy", "error": "busy", "transactionId": "t-busy"}
                failure = "purchase-request-resp-failure"
                ws.send(json.dumps({"action": failure, "message": busy, **frame_id(frame)}))
                return
            if frame.get("action") == "purchase-request":
                sent.append(frame["requestId"])
            server.send(message)

        ws.on_message(from_page)
        server.on_message(ws.send)

    page.route_web_socket(re.compile(r"/ws\?token="), relay)
    page.reload()
    shopper.fill_cart({"Livestream ticket": 1})
    page.get_by_role("button", name="Go to checkout").click()
    shopper.fill_card(VISA)
    shopper.pay_button().click()
    expect(page.get_by_text("So many fans are paying right now")).to_be_visible()
    heading = page.get_by_role("heading", name="Not charged — too many fans at once")
    expect(heading).to_be_visible()
    expect(page.get_by_role("heading", name="Payment failed")).to_have_count(0)
    expect(page.get_by_text("Nothing was charged")).to_be_visible()
    expect(page.get_by_text("busy", exact=True)).to_have_count(0)
    shopper.axe("busy")
    shopper.shot("43-busy-desktop")
    page.set_viewport_size(PHONE)
    expect(heading).to_be_visible()
    shopper.axe("busy at phone size")
    shopper.shot("43-busy-phone")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Try again").click()
    shopper.fill_card(VISA)
    shopper.pay_button().click()
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible(timeout=LINE_WAIT)
    assert len(sent) == 2 and sent[0] != sent[1], sent
