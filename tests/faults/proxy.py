"""A loopback HTTP/1.1 proxy in front of localstripe that misbehaves on purpose, per request.

    with FaultProxy(upstream) as proxy:
        proxy.plan("POST", "/v1/payment_intents", ["drop", "pass"])

Actions, taken in order by the matching requests (then ``pass``):
  pass            forward and answer
  drop            forward (Stripe acts!), then cut the connection without answering
  reset           cut the connection before forwarding (Stripe never sees it)
  delay:S         wait S seconds, then forward and answer
  status:N        answer N (503, 429, ...) without forwarding
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from types import TracebackType

import httpx


@dataclass
class Seen:
    method: str
    path: str
    action: str
    idempotency_key: str | None


@dataclass
class FaultProxy:
    upstream: str
    seen: list[Seen] = field(default_factory=list)
    _plans: list[tuple[str, str, list[str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _connections: set[asyncio.Task[None]] = field(default_factory=set)

    def plan(self, method: str, path_prefix: str, actions: list[str]) -> None:
        with self._lock:
            self._plans.append((method, path_prefix, list(actions)))

    def attempts(self, method: str, path_prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(path_prefix)]

    def _next_action(self, method: str, path: str) -> str:
        with self._lock:
            for m, prefix, actions in self._plans:
                if m == method and path.startswith(prefix) and actions:
                    return actions.pop(0)
        return "pass"

    # lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> FaultProxy:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve(ready))

    async def _serve(self, ready: threading.Event) -> None:
        self._stop = asyncio.Event()
        self._client = httpx.AsyncClient(base_url=self.upstream, timeout=30, trust_env=False)
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await self._stop.wait()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._client.aclose()

    # one client connection, keep-alive -----------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                if not await self._answer(request, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.transport.abort()
            if task is not None:
                self._connections.discard(task)

    async def _answer(self, request: _Request, writer: asyncio.StreamWriter) -> bool:
        action = self._next_action(request.method, request.path)
        key = request.headers.get("idempotency-key")
        self.seen.append(Seen(request.method, request.path, action, key))
        if action == "reset":
            writer.transport.abort()
            return False
        if action.startswith("status:"):
            code = int(action.split(":")[1])
            body = b'{"error": {"type": "api_error", "message": "injected fault"}}'
            writer.write(_response(code, body, "application/json"))
            await writer.drain()
            return True
        if action.startswith("delay:"):
            await asyncio.sleep(float(action.split(":")[1]))
        headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP}
        upstream = await self._client.request(
            request.method, request.path, headers=headers, content=request.body
        )
        if action == "drop":  # Stripe acted; the caller never hears of it
            writer.transport.abort()
            return False
        writer.write(
            _response(
                upstream.status_code,
                upstream.content,
                upstream.headers.get("content-type", "application/json"),
                upstream.headers.get("idempotent-replayed"),
            )
        )
        await writer.drain()
        return True


HOP_BY_HOP = {"host", "connection", "keep-alive", "content-length", "transfer-encoding"}


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = dict(_split(line) for line in lines[1:] if ":" in line)
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return _Request(method, path, headers, body)


def _split(line: str) -> tuple[str, str]:
    name, value = line.split(":", 1)
    return name.strip().lower(), value.strip()


def _response(status: int, body: bytes, content_type: str, replayed: str | None = None) -> bytes:
    extra = f"Idempotent-Replayed: {replayed}\r\n" if replayed else ""
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode("latin-1") + body
