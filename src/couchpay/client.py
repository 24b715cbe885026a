"""A small async client for the couchpay WebSocket protocol.

async with await CouchpayClient.connect("ws://127.0.0.1:8000/ws", token) as c:
    reply = await c.call("get-items")

``call`` returns a request's final reply: while a purchase waits in line the service sends
``purchase-request-resp-queued`` frames first; the client keeps them in ``queued[requestId]``
(the places, in order) and waits on for the outcome.

A receiver of the fulfillment event feed checks each delivery with ``verify_event`` (the
signature over the raw body and its timestamp) before it believes a word of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from types import TracebackType
from typing import Any
from urllib.parse import quote

import websockets
from websockets.asyncio.client import ClientConnection

from couchpay.domain.event_signature import (
    DEFAULT_TOLERANCE_SECONDS,
    SIGNATURE_HEADER,
    EventSignatureError,
    check,
)

QUEUED = "purchase-request-resp-queued"
__all__ = [
    "SIGNATURE_HEADER",
    "CouchpayClient",
    "EventSignatureError",
    "verify_event",
]


def verify_event(
    body: bytes,
    signature_header: str | None,
    secret: str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """The event a feed delivery carries, once its ``Couchpay-Signature`` header proves it
    came from couchpay (HMAC-SHA256 with ``secret`` over ``"{t}.{body}"``, ``body`` exactly as
    received) within ``tolerance_seconds`` of ``now`` (default: this machine's clock).
    Raises ``EventSignatureError`` otherwise: answer 400 and drop the delivery."""
    check(secret, signature_header, body, time.time() if now is None else now, tolerance_seconds)
    try:
        event: dict[str, Any] = json.loads(body)
    except ValueError as exc:
        raise EventSignatureError("body is not JSON") from exc
    return event


class CouchpayClient:
    def __init__(self, conn: ClientConnection) -> None:
        self._conn = conn
        self._waiting: dict[str, list[asyncio.Future[dict[str, Any]]]] = {}
        self.pushed: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.queued: dict[str, list[dict[str, Any]]] = {}
        """requestId -> the ``purchase-request-resp-queued`` messages it got, in order."""
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, url: str, token: str, **kwargs: Any) -> CouchpayClient:
        sep = "&" if "?" in url else "?"
        conn = await websockets.connect(f"{url}{sep}token={quote(token)}", max_size=2**20, **kwargs)
        return cls(conn)

    async def call(
        self,
        action: str,
        message: dict[str, Any] | None = None,
        request_id: str | None = None,
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        """Send one request and wait for its final reply, the next one with the same requestId
        that is not ``purchase-request-resp-queued`` (replies to several copies of one requestId
        are handed out in order)."""
        rid = request_id or str(uuid.uuid4())
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(rid, []).append(future)
        try:
            frame = {"action": action, "message": message or {}, "requestId": rid}
            await self._conn.send(json.dumps(frame))
            return await asyncio.wait_for(future, timeout)
        finally:
            waiters = self._waiting.get(rid, [])
            if future in waiters:
                waiters.remove(future)
            if not waiters:
                self._waiting.pop(rid, None)

    async def send_raw(self, frame: str | bytes, timeout: float = 30.0) -> dict[str, Any]:
        """Send any frame (even a broken one) and return the next reply nobody waits for."""
        await self._conn.send(frame)
        return await asyncio.wait_for(self.pushed.get(), timeout)

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self._conn:
                reply = json.loads(raw)
                if reply.get("action") == QUEUED:
                    self.queued.setdefault(str(reply.get("requestId")), []).append(reply["message"])
                    continue
                waiters = self._waiting.get(str(reply.get("requestId")), [])
                pending = [f for f in waiters if not f.done()]
                if not pending:
                    await self.pushed.put(reply)
                elif _pushed_outcome(reply, pending):
                    for future in pending:  # the outcome every copy here was told to wait for
                        future.set_result(reply)
                else:
                    pending[0].set_result(reply)
        for waiters in self._waiting.values():
            for future in waiters:
                if not future.done():
                    future.set_exception(ConnectionError("connection closed"))

    async def wait_closed(self, timeout: float = 30.0) -> None:
        """Until the service closes the connection (e.g. once the sign-in token expired)."""
        await asyncio.wait_for(self._conn.wait_closed(), timeout)

    async def close(self) -> None:
        await self._conn.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def __aenter__(self) -> CouchpayClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def _pushed_outcome(reply: dict[str, Any], pending: list[asyncio.Future[dict[str, Any]]]) -> bool:
    """Several copies of one purchase wait on this connection, and this reply is a purchase's
    outcome: copies that were told to wait in line all get it (the service pushes an outcome
    once per connection, not once per copy)."""
    return len(pending) > 1 and str(reply.get("action", "")).startswith(
        ("purchase-request-resp-", "get-payment-intent")
    )
