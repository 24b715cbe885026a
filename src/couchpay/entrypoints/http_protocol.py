"""uvicorn's HTTP protocol with the bounds a public listener needs (``couchpay serve``).

uvicorn itself times out only idle keep-alive connections: a client that opens a connection and
never finishes its request headers (a slow or unfinished WebSocket upgrade) holds a file
descriptor forever, and a request line is buffered however long it grows. Here, per connection:
- the request line and headers must be complete within ``handshake_timeout`` seconds of the
  connection opening (and of each keep-alive request starting), or the connection is closed;
- a request target over ``MAX_URL_BYTES`` (8 KB) or headers over ``MAX_HEAD_BYTES`` (16 KB) are
  refused with a 400 and the connection closed, as soon as that many bytes have arrived;
- at most ``max_connections`` connections (HTTP and WebSocket together) are open at once: one
  more is answered 503 and closed without reading it.
Once a WebSocket upgrade's headers are complete, the WebSocket protocol takes the connection
over (its handshake has a timeout of its own, and the app answers it at once)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)
MAX_URL_BYTES = 8 * 1024
MAX_HEAD_BYTES = 16 * 1024
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 12\r\nconnection: close\r\n\r\nserver busy\n"
)


class HeadTooLarge(ValueError):
    """Raised inside a parser callback: httptools turns it into a parse error (a 400)."""


def guarded_protocol(handshake_timeout: float, max_connections: int) -> type[asyncio.Protocol]:
    class GuardedHttp(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None
        _head_bytes = 0
        _raw_head = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                log.warning("connection refused: %d connections open", len(self.connections) - 1)
                transport.write(BUSY)
                transport.close()
                return
            self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._head_bytes = self._raw_head = 0
            self._deadline = self.loop.call_later(handshake_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            log.info("connection closed: request headers not complete in %s s", handshake_timeout)
            self.transport.close()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._deadline is not None:  # the head is still incomplete after all of this
                self._raw_head += len(data)
                if self._raw_head > 2 * MAX_HEAD_BYTES and not self.transport.is_closing():
                    self.send_400_response("Request head too large.")

        def on_message_begin(self) -> None:
            self._arm()  # each request's head gets its own deadline (keep-alive too)
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            super().on_url(url)
            if len(self.url) > MAX_URL_BYTES:
                raise HeadTooLarge("request target too long")

        def on_header(self, name: bytes, value: bytes) -> None:
            self._head_bytes += len(name) + len(value) + 4
            if self._head_bytes > MAX_HEAD_BYTES:
                raise HeadTooLarge("request headers too large")
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return GuardedHttp


def server_options(handshake_timeout: float, max_connections: int) -> dict[str, Any]:
    """uvicorn.Config keyword arguments for these bounds."""
    return {
        "http": guarded_protocol(handshake_timeout, max_connections),
        "timeout_keep_alive": 5,
        "limit_concurrency": max_connections + 1,  # uvicorn counts the asking connection too
        "proxy_headers": False,  # the peer address is the TCP peer's, whatever headers say
        "access_log": False,
    }
