"""Shared fixtures. Keep this file small and generic; put feature fixtures near their tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from couchpay.offline_stripe.process import LocalStripe


# --- localstripe: one fake Stripe server (a child process on 127.0.0.1) per test session ---
@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    """A started localstripe; state is shared by the whole session (never flushed here)."""
    with LocalStripe() as server:
        yield server


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.figures import FIGURES

    if FIGURES:
        terminalreporter.section("figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
