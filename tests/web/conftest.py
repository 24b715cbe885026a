"""The web page in a real browser: Debian's Chromium, headless, driven by Playwright, against a
real `couchpay serve` (embedded localstripe) serving the built page from web/dist.

Needs `web/dist` (npm run build in web/) and /usr/bin/chromium; ./scripts/test provides both and
sets COUCHPAY_REQUIRE_WEB=1 so that a missing one fails instead of skipping. Screenshots of every
screen go to artifacts/screens/ (override with COUCHPAY_SCREENS_DIR).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from websockets.sync.client import connect

from tests.e2e.conftest import Server, running_server

ROOT = Path(__file__).resolve().parents[2]
WEB_DIST = Path(os.environ.get("COUCHPAY_WEB_DIR") or ROOT / "web" / "dist")
CHROMIUM = os.environ.get("COUCHPAY_CHROMIUM", "/usr/bin/chromium")
SCREENS = Path(os.environ.get("COUCHPAY_SCREENS_DIR") or ROOT / "artifacts" / "screens")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def _missing() -> str | None:
    if not (WEB_DIST / "index.html").is_file():
        return (
            f"the page is not built ({WEB_DIST}/index.html): run `npm ci && npm run build` in web/"
        )
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM}: apt-get install chromium"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    ours = [item for item in items if item.path.is_relative_to(here)]
    reason = _missing() if ours else None
    if reason is None:
        return
    if os.environ.get("COUCHPAY_REQUIRE_WEB") == "1":
        raise pytest.UsageError(f"tests/web: {reason}")
    for item in ours:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("couchpay-web")) as server:
        yield server


@pytest.fixture(scope="session")
def screens() -> Path:
    shutil.rmtree(SCREENS, ignore_errors=True)
    SCREENS.mkdir(parents=True)
    return SCREENS


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    # Module scope: Playwright's sync API marks an event loop as running while it is started,
    # which pytest-asyncio's tests in other modules cannot share.
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # Playwright gives every launch a fresh, temporary --user-data-dir.
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile per test (own localStorage), desktop sized."""
    ctx = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


@dataclass
class Shopper:
    """One signed-in user in the browser, with helpers that act as a person would."""

    page: Page
    user_id: str
    server: Server
    screens: Path

    def shot(self, name: str, full_page: bool = True) -> None:
        """A screenshot of the screen as it is, which axe-core checks too (0 violations)."""
        self.page.screenshot(path=str(self.screens / f"{name}.png"), full_page=full_page)
        check_axe(self.page, name)

    def go(self, tab: str) -> None:
        self.page.get_by_role("navigation", name="Main").get_by_role("link", name=tab).click()

    def fill_card(
        self, number: str, exp: str = "12/30", cvc: str = "123", zip_: str = "10001"
    ) -> None:
        month, year = exp.split("/")
        card = self.page.get_by_role("group", name="Card details")
        card.get_by_label("Card number").fill(number)
        card.get_by_label("Expiry month (MM)").fill(month)
        card.get_by_label("Expiry year (YY)").fill(year)
        card.get_by_label("Security code (CVC)").fill(cvc)
        card.get_by_label("ZIP or postal code").fill(zip_)

    def add_card(self, number: str, name: str | None = None) -> None:
        self.go("Wallet")
        if name:
            self.page.get_by_label("Name on card").fill(name)
        self.fill_card(number)
        self.page.get_by_role("button", name="Save card").click()

    def fill_cart(self, quantities: dict[str, int] | None = None) -> None:
        """Put items in the cart from the shop (default: one of each demo item)."""
        self.go("Shop")
        wanted = quantities or {"Livestream ticket": 1, "Meet and greet": 1, "Tour poster": 1}
        for name, quantity in wanted.items():
            self.page.get_by_role("button", name=f"Add to cart: {name}").click()
            if quantity != 1:
                box = self.page.get_by_label(f"Quantity of {name}", exact=True).last
                box.fill(str(quantity))
                box.press("Enter")  # a typed quantity applies on Enter (or when leaving the box)

    def fill_address(self, **fields: str) -> None:
        """The shipping address form at checkout, as a fan types it."""
        country = fields.pop("Country", "GB")
        address = {
            "Full name": "Ada Lovelace",
            "Street address": "12 St James's Square",
            "City": "London",
            "Postal or ZIP code": "SW1Y 4JH",
            **fields,
        }
        form = self.page.get_by_role("group", name="Ship the poster to")
        for label, value in address.items():
            form.get_by_label(label, exact=True).fill(value)
        form.get_by_label("Country").select_option(country)

    def axe(self, screen: str) -> None:
        """axe-core (from web/node_modules) on the page as it is now: no violations at all."""
        check_axe(self.page, screen)

    def pay_button(self) -> Any:
        return self.page.get_by_role("button", name="Pay $")

    def call(
        self,
        action: str,
        message: dict[str, Any] | None = None,
        rid: str | None = None,
        *,
        outcome: bool = True,
    ) -> Any:
        """The protocol, directly (for setting up data a test is not about). A purchase that
        waits in the admission line answers `purchase-request-resp-queued` first: with
        ``outcome`` the call waits for the final reply, else it returns the first."""
        with connect(f"{self.server.ws_url}?token={self.server.token(self.user_id)}") as ws:
            ws.send(
                json.dumps(
                    {
                        "action": action,
                        "message": message or {},
                        "requestId": rid or f"t-{time.time_ns()}",
                    }
                )
            )
            reply = json.loads(ws.recv(timeout=30))
            while outcome and reply.get("action") == "purchase-request-resp-queued":
                reply = json.loads(ws.recv(timeout=120))
            return reply


AXE_JS = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
AXE_SEEN: list[str] = []


def check_axe(page: Page, screen: str) -> None:
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core is not installed ({AXE_JS}): run web/build.sh", pytrace=False)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated by the browser's DevTools protocol: the page's CSP (no inline scripts, which
        # a <script> tag from add_script_tag would be) does not apply to it, and stays as served.
        page.evaluate(AXE_JS.read_text() + "\n;undefined")
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations'],"
        " rules: {'label-content-name-mismatch': {enabled: true}}});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})); }"
    )
    AXE_SEEN.append(screen)
    assert result == [], f"axe-core on {screen}: {json.dumps(result, indent=1)}"


def sign_in(
    page: Page, server: Server, screens: Path, name: str, shot: str | None = None
) -> Shopper:
    user_id = f"{name}-{time.time_ns() % 10**9}"
    page.goto(server.url + "/")
    page.get_by_label("User name").fill(user_id)
    if shot:
        page.screenshot(path=str(screens / f"{shot}.png"), full_page=True)
    page.get_by_label("User name").press("Enter")  # the keyboard works
    page.get_by_role("heading", name="Shop").wait_for()
    page.get_by_text("Livestream ticket").wait_for()
    return Shopper(page, user_id, server, screens)


@pytest.fixture
def shopper(context: BrowserContext, web_server: Server, screens: Path) -> Shopper:
    return sign_in(context.new_page(), web_server, screens, "fan")
