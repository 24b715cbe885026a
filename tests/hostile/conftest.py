"""A server of its own for the hostile-input suites (a high rate limit, so the fuzzer is not
throttled, except where a test says otherwise), and a snapshot of its whole database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from couchpay.adapters.dev_tokens import DevTokens
from tests.e2e.conftest import Server, start_server


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
    proc, url = start_server(
        data_dir, data_dir / "server.log", {"COUCHPAY_RATE_LIMIT": "100000/100000"}
    )
    import httpx

    api_base = httpx.get(f"{url}/config").json()["stripeApiBase"]
    try:
        yield Server(url, data_dir, api_base, data_dir / "server.log")
    finally:
        proc.terminate()
        proc.wait(15)


def dev_key(server: Server) -> bytes:
    DevTokens(server.data_dir / "dev-signing.key").mint("warm-up")
    return bytes.fromhex((server.data_dir / "dev-signing.key").read_text().strip())
