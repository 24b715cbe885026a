"""The page under its Content Security Policy (red-team finding 9), in Chromium: signing in,
loading Stripe.js (here the offline stand-in at the URL /config names), saving a card and the
WebSocket all work, and the browser reports no policy violation; another site cannot frame
the page."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext, expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import VISA
from tests.web.conftest import sign_in


def test_the_page_works_under_its_policy_and_violates_none(
    context: BrowserContext, web_server: Server, screens: Path
) -> None:
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    fan = sign_in(page, web_server, screens, "csp")
    fan.add_card(VISA, name="Policy Fan")
    expect(page.get_by_role("listitem", name="Visa ending in 4242")).to_be_visible()
    assert page.evaluate("window.__violations") == []
    assert not [line for line in console if "Content Security Policy" in line]


def test_another_site_cannot_frame_the_page(context: BrowserContext, web_server: Server) -> None:
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    page.set_content(f'<iframe src="{web_server.url}/" width="400" height="300"></iframe>')
    for _ in range(100):  # until Chromium reports the refusal (at most ~10 s)
        if any("frame-ancestors" in line for line in blocked):
            break
        page.wait_for_timeout(100)
    assert any("frame-ancestors 'none'" in line for line in blocked), blocked
