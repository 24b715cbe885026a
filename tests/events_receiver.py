"""An events receiver for the tests: a real aiohttp server on 127.0.0.1 that does what the
README tells an integrator to do (verify the signature over the raw body with
``couchpay.client.verify_event``, answer 2xx, dedupe by id). It can answer 503 for a while
(``failing``) or go away entirely (``stop``, then ``start`` on the same port)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from couchpay.client import SIGNATURE_HEADER, EventSignatureError, verify_event

SECRET = "whsec_events_test_secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    secret: str = SECRET
    arrivals: list[dict[str, Any]] = field(default_factory=list)
    """Every verified delivery, in arrival order (duplicates included)."""
    rejected: int = 0
    failing: bool = False
    refused_while_failing: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/couchpay-events"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event = verify_event(body, request.headers.get(SIGNATURE_HEADER), self.secret)
        except EventSignatureError:
            self.rejected += 1
            return web.Response(status=400)
        if request.headers.get("Couchpay-Event-Id") != event["id"]:
            self.rejected += 1
            return web.Response(status=400)
        if self.failing:
            self.refused_while_failing += 1
            return web.Response(status=503)
        self.arrivals.append(event)
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/couchpay-events", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def unique(self) -> dict[str, dict[str, Any]]:
        """Deduped by id, as a receiver must: the first arrival of each event."""
        seen: dict[str, dict[str, Any]] = {}
        for event in self.arrivals:
            seen.setdefault(event["id"], event)
        return seen

    def by_subject(self) -> dict[str, list[int]]:
        """Each subject's sequence numbers in the order their first arrivals came."""
        order: dict[str, list[int]] = {}
        for event in self.unique().values():
            order.setdefault(event["subject"], []).append(event["sequence"])
        return order

    async def wait_for(self, count: int) -> None:
        """Until ``count`` distinct events arrived."""
        await eventually(lambda: len(self.unique()) >= count, f"{count} events")


async def eventually(done: Callable[[], bool], what: str, timeout: float = 90) -> None:
    """Poll until ``done()`` (the deadline only ends a hung run: no timing is asserted)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done():
        if loop.time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.1)
