"""A server of its own for the hostile-input suites (high rate limits, per socket and per
user, so the fuzzer is not throttled, except where a test says otherwise), and a snapshot of
its whole database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from couchpay.adapters.dev_tokens import DevTokens
from tests.e2e.conftest import Server, running_server


def snapshot(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but webhook_events (localstripe may deliver events any time)."""
    with sqlite3.connect(data_dir / "couchpay.sqlite3") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in tables
            if t != "webhook_events"
        }


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("hostile")
    unthrottled = {
        "COUCHPAY_RATE_LIMIT": "100000/100000",
        "COUCHPAY_USER_RATE_LIMIT": "100000/100000",
        "COUCHPAY_STRIPE_WRITES_PER_MINUTE": "100000",
    }
    with running_server(data_dir, unthrottled) as server:
        yield server


def dev_key(server: Server) -> bytes:
    DevTokens(server.data_dir / "dev-signing.key").mint("warm-up")
    return bytes.fromhex((server.data_dir / "dev-signing.key").read_text().strip())
