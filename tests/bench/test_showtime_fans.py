"""The showtime fans read replies as the issue defines them: any number of
``purchase-request-resp-queued`` frames first; a ``payment_processing`` reply is not an outcome,
the pushed final reply with the same ``requestId`` is (at its time); nothing by the deadline is
``stranded`` (after ``payment_processing``) or ``no_reply``. A scripted socket on 127.0.0.1
plays the server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import websockets
from bench.showtime_fans import FAILURE, QUEUED, SUCCESS, Fan, burst

SCRIPTS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "queued-then-paid": [
        (QUEUED, {"transactionId": "t1", "position": 3, "etaSeconds": 0.3}),
        (QUEUED, {"transactionId": "t1", "position": 1, "etaSeconds": 0.1}),
        (SUCCESS, {"transactionId": "t1", "status": "succeeded"}),
    ],
    "processing-then-pushed": [
        (FAILURE, {"transactionId": "t2", "status": "pending", "code": "payment_processing"}),
        ("other-reply", {}),  # another requestId: ignored
        (SUCCESS, {"transactionId": "t2", "status": "succeeded"}),
    ],
    "sold-out": [(FAILURE, {"code": "sold_out", "error": "none left"})],
    "processing-forever": [
        (FAILURE, {"transactionId": "t4", "status": "pending", "code": "payment_processing"})
    ],
    "silent": [(QUEUED, {"transactionId": "t5", "position": 1, "etaSeconds": 0.1})],
}


class Scripted:
    """What ``burst`` needs of a server: ``socket_url(user)``."""

    def __init__(self, port: int) -> None:
        self.port = port

    def socket_url(self, user: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws?token={user}"


async def _play(ws: websockets.ServerConnection) -> None:
    user = parse_qs(urlparse(ws.request.path).query)["token"][0]  # type: ignore[union-attr]
    frame = json.loads(await ws.recv())
    for action, message in SCRIPTS[user]:
        await asyncio.sleep(0.02)
        rid = "someone-else" if action == "other-reply" else frame["requestId"]
        await ws.send(json.dumps({"action": action, "message": message, "requestId": rid}))
    await ws.wait_closed()


@pytest.fixture
async def scripted() -> AsyncIterator[Scripted]:
    async with websockets.serve(_play, "127.0.0.1", 0) as server:
        yield Scripted(next(iter(server.sockets)).getsockname()[1])


async def test_fans_read_queued_processing_pushed_and_missing_outcomes(scripted: Scripted) -> None:
    fans = [Fan(user, card="card-1") for user in SCRIPTS]
    await burst(scripted, fans, [{"item_id": "x", "price_cents": 100}], 1.5)  # type: ignore[arg-type]
    seen = {f.user: f for f in fans}
    assert seen["queued-then-paid"].outcome == "paid"
    assert seen["queued-then-paid"].positions == [3, 1]
    pushed = seen["processing-then-pushed"]
    assert pushed.outcome == "paid" and pushed.processing_at is not None
    assert pushed.done is not None and pushed.done > pushed.processing_at
    assert seen["sold-out"].outcome == "sold_out" and seen["sold-out"].done is not None
    assert seen["processing-forever"].outcome == "stranded"
    assert seen["processing-forever"].done is None
    assert seen["silent"].outcome == "no_reply" and seen["silent"].positions == [1]
