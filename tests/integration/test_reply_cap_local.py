"""`couchpay serve` keeps API Gateway's 128 KB message cap too, so that what would be lost on
AWS shows here: the issue's history (44 purchases with 50-line carts) comes page by page in
frames of at most 128 KB, and a reply that cannot fit comes as `reply_too_large`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from couchpay.adapters.sqlite_store import SqliteStore
from couchpay.domain.catalog import CatalogItem, ItemKind
from tests import big_history
from tests.e2e.conftest import Server, running_server

CAP = 128 * 1024


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("reply-cap")) as server:
        yield server


def store_of(server: Server) -> SqliteStore:
    return SqliteStore(Path(server.data_dir) / "couchpay.sqlite3")


async def ask(
    ws: Any, action: str, message: dict[str, Any], rid: str
) -> tuple[int, dict[str, Any]]:
    await ws.send(json.dumps({"action": action, "message": message, "requestId": rid}))
    raw = await ws.recv()
    return len(raw.encode() if isinstance(raw, str) else raw), json.loads(raw)


async def test_the_issues_history_comes_page_by_page_within_the_cap(local: Server) -> None:
    store = store_of(local)
    expected = big_history.seed(store, "fan-big-local")
    store.close()
    seen: list[str] = []
    cursor = None
    async with websockets.connect(
        f"{local.ws_url}?token={local.token('fan-big-local')}", max_size=None
    ) as ws:
        for page in range(10):
            message: dict[str, Any] = {"limit": 100} | ({"cursor": cursor} if cursor else {})
            size, reply = await ask(ws, "get-user-purchases", message, f"p{page}")
            assert size <= CAP
            assert reply["action"] == "view-purchases-resp-success", reply
            seen += [p["transactionId"] for p in reply["message"]["purchases"]]
            cursor = reply["message"]["nextCursor"]
            if cursor is None:
                break
    assert seen == expected and page > 0


async def test_a_reply_that_cannot_fit_is_reply_too_large(local: Server) -> None:
    store = store_of(local)
    for n in range(1500):  # a catalog whose listing is over 128 KB
        store.put_item(
            CatalogItem(
                str(uuid.uuid4()), f"Encore merch bundle {n:04d} " + "x" * 60, ItemKind.MERCH, 100
            )
        )
    store.close()
    async with websockets.connect(
        f"{local.ws_url}?token={local.token('fan-items')}", max_size=None
    ) as ws:
        size, reply = await ask(ws, "get-items", {}, "items-1")
    assert size <= CAP
    assert reply["action"] == "error" and reply["requestId"] == "items-1"
    assert reply["message"]["code"] == "reply_too_large"
