"""The fans of the showtime benchmark: users with a saved card each, prepared the way the page
prepares them (a PaymentMethod made at "Stripe.js", then ``create-payment-method``), who open
their sockets and then press Pay once, all within one second.

A fan's outcome is the first reply with their ``requestId`` that is neither
``purchase-request-resp-queued`` (any number of those may come first: the line) nor a
``payment_processing`` failure (Stripe has not answered: the final reply is pushed later with the
same ``requestId``, and counts at the time of the push). A fan who has none by the deadline is
``stranded`` (they were told ``payment_processing`` and nothing followed) or ``no_reply``."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

from bench.purchase import cpu_seconds
from bench.servers import WEBHOOK_SECRET, CouchpayServer
from bench.stack import VISA, connect, save_card
from couchpay.offline_stripe.process import LocalStripe
from couchpay.offline_stripe.realism_harness import RealismProcess

QUEUED = "purchase-request-resp-queued"
SUCCESS = "purchase-request-resp-success"
FAILURE = "purchase-request-resp-failure"
PROCESSING = "payment_processing"
PREPARE_AT_ONCE = 16
OPEN_AT_ONCE = 50


@dataclass
class Fan:
    user: str
    card: str = ""
    request_id: str = ""
    pressed: float = 0.0  # perf_counter
    outcome: str = ""  # paid / sold_out / busy / <code> / stranded / no_reply / requires_action
    done: float | None = None  # perf_counter of the final reply
    transaction: str | None = None
    positions: list[int] = field(default_factory=list)
    processing_at: float | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.done is None else self.done - self.pressed


async def prepare(server: CouchpayServer, api_base: str, users: list[str]) -> list[Fan]:
    """A saved card for every user, a few users at a time."""
    gate = asyncio.Semaphore(PREPARE_AT_ONCE)

    async def one(user: str) -> Fan:
        async with gate:
            client = await connect(server, user)
            try:
                return Fan(user, await save_card(client, api_base, VISA))
            finally:
                await client.close()

    return list(await asyncio.gather(*(one(u) for u in users)))


async def items(server: CouchpayServer) -> list[dict[str, Any]]:
    client = await connect(server, "showtime-catalog-reader")
    try:
        reply = await client.call("get-items")
    finally:
        await client.close()
    if reply["action"] != "get-items-resp-success":
        raise RuntimeError(f"get-items failed: {reply}")
    return list(reply["message"]["items"])


def cart_of(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"item_id": item["itemId"], "price_cents": item["priceCents"], "quantity": 1}]


async def _open(server: CouchpayServer, fans: list[Fan]) -> list[websockets.ClientConnection]:
    sockets: list[websockets.ClientConnection] = []
    for start in range(0, len(fans), OPEN_AT_ONCE):
        batch = fans[start : start + OPEN_AT_ONCE]
        sockets += await asyncio.gather(
            *(
                asyncio.wait_for(websockets.connect(server.socket_url(f.user), max_size=2**20), 60)
                for f in batch
            )
        )
    return sockets


async def _press(
    ws: websockets.ClientConnection,
    fan: Fan,
    cart: list[dict[str, Any]],
    t0: float,
    at: float,
    deadline: float,
) -> None:
    await asyncio.sleep(max(0.0, t0 + at - time.perf_counter()))
    fan.request_id = str(uuid.uuid4())
    frame = {
        "action": "purchase-request",
        "message": {"cardId": fan.card, "items": cart},
        "requestId": fan.request_id,
    }
    fan.pressed = time.perf_counter()
    await ws.send(json.dumps(frame))
    while True:
        left = deadline - time.perf_counter()
        try:
            reply = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, left)))
        except (TimeoutError, websockets.ConnectionClosed):
            fan.outcome = "stranded" if fan.processing_at is not None else "no_reply"
            return
        if reply.get("requestId") != fan.request_id:
            continue
        action, message = reply.get("action"), reply.get("message") or {}
        fan.transaction = message.get("transactionId") or fan.transaction
        if action == QUEUED:
            fan.positions.append(int(message.get("position", -1)))
            continue
        if action == FAILURE and message.get("code") == PROCESSING:
            fan.processing_at = fan.processing_at or time.perf_counter()
            continue
        fan.done = time.perf_counter()
        if action == SUCCESS:
            fan.outcome = "paid"
        elif action == "get-payment-intent":
            fan.outcome = "requires_action"
        else:
            fan.outcome = str(message.get("code") or action)
        return


async def burst(
    server: CouchpayServer,
    fans: list[Fan],
    cart: list[dict[str, Any]],
    wait_seconds: float,
    seed: int = 12,
) -> float:
    """Open every fan's socket, then every fan presses Pay at a random moment of one second;
    wait for their outcomes until ``wait_seconds`` after t0. Returns t0."""
    sockets = await _open(server, fans)
    try:
        rng = random.Random(seed)
        moments = [rng.random() for _ in fans]  # seconds after t0, within one second
        t0 = time.perf_counter() + 0.2
        deadline = t0 + wait_seconds
        await asyncio.gather(
            *(
                _press(ws, fan, cart, t0, moment, deadline)
                for ws, fan, moment in zip(sockets, fans, moments, strict=True)
            )
        )
        return t0
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def records(server: CouchpayServer, fans: list[Fan]) -> dict[str, list[dict[str, Any]]]:
    """Each fan's purchases as couchpay shows them (``get-user-purchases``)."""
    gate = asyncio.Semaphore(PREPARE_AT_ONCE)

    async def one(fan: Fan) -> tuple[str, list[dict[str, Any]]]:
        async with gate:
            client = await connect(server, fan.user)
            try:
                reply = await client.call("get-user-purchases", {"limit": 20})
            finally:
                await client.close()
        return fan.user, list((reply.get("message") or {}).get("purchases") or [])

    return dict(await asyncio.gather(*(one(f) for f in fans)))


def server_for(
    data_dir: Path, localstripe: LocalStripe, stand_in: RealismProcess, limit: int = 25
) -> CouchpayServer:
    """`couchpay serve` with the stand-in as its Stripe, its line set one under the stand-in's
    PaymentIntent limit (as an operator sets COUCHPAY_STRIPE_RATE for their account's limit);
    localstripe's webhooks go to it (``COUCHPAY_SHOWTIME_WEBHOOKS=0``: nowhere, to see the
    purchases alone)."""
    rate = os.environ.get("COUCHPAY_SHOWTIME_RATE") or str(max(1, limit - 1))
    server = CouchpayServer(data_dir, stand_in.url, {"COUCHPAY_STRIPE_RATE": rate})
    url = f"{server.url}/stripe/webhook"
    if os.environ.get("COUCHPAY_SHOWTIME_WEBHOOKS", "1") == "0":
        url = "http://127.0.0.1:9/nowhere"  # discard: localstripe's delivery fails, is dropped
    localstripe.register_webhook("showtime", url, WEBHOOK_SECRET)
    return server


def measured_burst(
    server: CouchpayServer,
    stand_in: RealismProcess,
    fans: list[Fan],
    cart: list[dict[str, Any]],
    wait_seconds: float,
) -> dict[str, Any]:
    """The burst with the stand-in's limits on (counters reset first); couchpay's CPU."""
    stand_in.reset()
    stand_in.configure(enabled=True)
    cpu0 = cpu_seconds(server.pid)
    t0 = asyncio.run(burst(server, fans, cart, wait_seconds))
    cpu = cpu_seconds(server.pid) - cpu0
    stats = stand_in.stats()
    stand_in.configure(enabled=False)
    return {"t0": t0, "cpu_seconds": cpu, "stand_in": stats}
