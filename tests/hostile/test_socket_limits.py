"""Handshake origin checks and the per-connection rate limit, on servers configured for them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from couchpay.adapters.dev_tokens import DevTokens
from couchpay.client import CouchpayClient
from tests.e2e.conftest import running_server


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("strict")
    env = {"COUCHPAY_RATE_LIMIT": "5/10", "COUCHPAY_ALLOWED_ORIGINS": "https://couchtour.tv"}
    with running_server(data_dir, env) as server:
        yield server.ws_url, data_dir


def token(data_dir: Path) -> str:
    return DevTokens(data_dir / "dev-signing.key").mint("limited-fan", 600)


async def test_only_allowed_origins_may_open_a_socket(strict: tuple[str, Path]) -> None:
    ws_url, data_dir = strict
    for origin in ("https://evil.example", "http://couchtour.tv", "null"):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await CouchpayClient.connect(ws_url, token(data_dir), origin=origin)
        assert refused.value.response.status_code == 403
    ok = await CouchpayClient.connect(ws_url, token(data_dir), origin="https://couchtour.tv")
    assert (await ok.call("get-items"))["action"] == "get-items-resp-success"
    await ok.close()


async def test_a_flood_is_rate_limited_and_the_socket_survives(strict: tuple[str, Path]) -> None:
    ws_url, data_dir = strict
    async with await CouchpayClient.connect(ws_url, token(data_dir)) as c:
        replies = await asyncio.gather(*(c.call("get-items") for _ in range(40)))
        limited = [r for r in replies if r["action"] == "error"]
        assert limited and {r["message"]["code"] for r in limited} == {"rate_limited"}
        assert all(r["requestId"] for r in limited)  # each refusal says which request
        assert 10 <= len(replies) - len(limited) <= 14  # the burst, and what refilled meanwhile
        await asyncio.sleep(1.0)
        assert (await c.call("get-items"))["action"] == "get-items-resp-success"
