"""Red-team findings 5 and 8, reproduced over real sockets: limits hold per user however many
sockets the user opens, and one card saved eight times at once is stored once."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator

import pytest
import websockets

from couchpay.client import CouchpayClient
from tests.e2e.conftest import Server, running_server
from tests.e2e.helpers import VISA, payment_method

MAX_SOCKETS, WRITES_PER_MINUTE = 10, 5


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "COUCHPAY_MAX_SOCKETS_PER_USER": str(MAX_SOCKETS),
        "COUCHPAY_STRIPE_WRITES_PER_MINUTE": str(WRITES_PER_MINUTE),
        "COUCHPAY_USER_RATE_LIMIT": "10/30",  # per user; each socket alone may do 20/40
    }
    with running_server(tmp_path_factory.mktemp("limited"), env) as server:
        yield server


async def sockets(server: Server, user_id: str, count: int) -> list[CouchpayClient]:
    return [await server.client(user_id) for _ in range(count)]


def away_from_a_minute_boundary() -> None:
    """The Stripe-writing allowance is per fixed minute: start well inside one."""
    into = time.time() % 60
    if into > 50:
        time.sleep(61 - into)


async def test_one_user_cannot_open_more_than_the_socket_limit(limited: Server) -> None:
    mine = await sockets(limited, "many-sockets", MAX_SOCKETS)
    try:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await limited.client("many-sockets")
        assert refused.value.response.status_code == 403
        other = await limited.client("someone-else")  # other users are not affected
        assert (await other.call("get-items"))["action"] == "get-items-resp-success"
        await other.close()
        await mine.pop().close()  # a socket closed is a socket freed
        await asyncio.sleep(0.2)
        mine.append(await limited.client("many-sockets"))
    finally:
        for c in mine:
            await c.close()


async def test_stripe_writes_are_limited_per_user_across_sockets(limited: Server) -> None:
    away_from_a_minute_boundary()
    mine = await sockets(limited, "setup-spammer", MAX_SOCKETS)
    try:
        calls = [c.call("create-setup-intent") for c in mine for _ in range(2)]
        replies = await asyncio.gather(*calls)
        ok = [r for r in replies if r["action"] == "get-setup-intent"]
        refused = [r for r in replies if r["action"] == "create-setup-intent-resp-failure"]
        assert len(ok) == WRITES_PER_MINUTE and len(refused) == len(replies) - WRITES_PER_MINUTE
        assert {r["message"]["code"] for r in refused} == {"rate_limited"}
        bystander = await limited.client("bystander")
        reply = await bystander.call("create-setup-intent")
        assert reply["action"] == "get-setup-intent"
        await bystander.close()
    finally:
        for c in mine:
            await c.close()


async def test_frames_are_limited_per_user_across_sockets(limited: Server) -> None:
    mine = await sockets(limited, "frame-spammer", 3)
    try:
        calls = [c.call("get-items") for c in mine for _ in range(20)]  # 20 < one socket's 40
        replies = await asyncio.gather(*calls)
        refused = [r for r in replies if r["action"] == "error"]
        assert refused and {r["message"]["code"] for r in refused} == {"rate_limited"}
        assert len(replies) - len(refused) < 60
    finally:
        for c in mine:
            await c.close()


async def test_one_card_saved_eight_times_at_once_is_one_live_card(hostile_server: Server) -> None:
    user_id = f"same-card-{time.monotonic_ns()}"
    clients = await sockets(hostile_server, user_id, 8)
    pms = [payment_method(hostile_server, VISA) for _ in clients]  # 8 PaymentMethods, 1 card
    replies = await asyncio.gather(
        *(c.call("create-payment-method", {"stripePayment": pm}) for c, pm in zip(clients, pms))
    )
    assert {r["action"] for r in replies} == {"create-payment-method-resp-success"}
    assert len({r["message"]["uuid"] for r in replies}) == 1  # every save answers the one record
    wallet = await clients[0].call("get-user-credit-card")
    assert len(wallet["message"]["cards"]) == 1
    with sqlite3.connect(hostile_server.data_dir / "couchpay.sqlite3") as db:
        live = db.execute(
            "SELECT COUNT(*) FROM cards WHERE user_id = ? AND active = 1 AND status = 'live'",
            (user_id,),
        ).fetchone()[0]
    assert live == 1  # the red team found 5
    for c in clients:
        await c.close()
