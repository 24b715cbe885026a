"""The local server's WebSocket: sign-in and origin at the handshake, then frames.

Every refusal (bad token, sign-in unavailable, a non-loopback Host while local sign-in is on, a
foreign Origin, one socket more than the user may hold) comes before ``accept``. An accepted
socket is closed when its token expires (4001). Frames pass the socket's rate, the user's rate
across sockets, and for Stripe-writing actions the user's per-minute allowance; refusals and reads
of an embedded store are answered inline, anything else in a worker thread (at most
``MAX_IN_FLIGHT_PER_CONNECTION`` per socket)."""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from couchpay.bootstrap import Runtime
from couchpay.domain.errors import RateLimited, Unauthorized
from couchpay.limits import UserLimits, refuse_stripe_write, too_many_frames
from couchpay.local_sign_in import loopback_host
from couchpay.ports.identity import Caller, SignInUnavailable
from couchpay.ratelimit import TokenBucket, parse_limit
from couchpay.service import showtime
from couchpay.wire import protocol, reply_size

log = logging.getLogger("couchpay.entrypoints.local_server")
Send = Callable[[dict[str, Any]], Awaitable[None]]
MAX_IN_FLIGHT_PER_CONNECTION = 8
_conn_ids = itertools.count(1)


def origin_allowed(runtime: Runtime, websocket: WebSocket) -> bool:
    """Browsers always send Origin: it must be a configured origin, or this server's own.
    Clients that are not browsers send none and are judged by their token alone."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    allowed = runtime.config.allowed_origins
    if allowed:
        return origin.rstrip("/") in allowed
    host = websocket.headers.get("host", "")
    return origin.rstrip("/") in {f"http://{host}", f"https://{host}"}


async def serve_socket(runtime: Runtime, websocket: WebSocket, limits: UserLimits) -> None:
    """Every refusal comes before ``accept``, so the client sees HTTP 403 (503 when sign-in
    keys cannot be fetched right now)."""
    token = websocket.query_params.get("token", "")
    try:
        caller = await anyio.to_thread.run_sync(runtime.tokens.caller, token)
        if caller.expires_at is None:
            raise Unauthorized("The sign-in token has no expiry.")
    except Unauthorized:
        await websocket.close(code=4401, reason="unauthorized")  # refused before accept: HTTP 403
        return
    except SignInUnavailable:
        await websocket.send_denial_response(
            JSONResponse({"error": "sign-in unavailable; retry later"}, status_code=503)
        )
        return
    user_id = caller.user_id
    if runtime.config.dev_sign_in and not loopback_host(websocket.headers):
        log.warning("socket refused: host %r with local sign-in on", websocket.headers.get("host"))
        await websocket.close(code=4403, reason="host not allowed")
        return
    if not origin_allowed(runtime, websocket):
        log.warning("socket refused: origin %r not allowed", websocket.headers.get("origin"))
        await websocket.close(code=4403, reason="origin not allowed")
        return
    if not limits.open_socket(user_id):
        log.warning("socket refused: user %s has too many sockets", user_id)
        await websocket.close(code=4429, reason="too many sockets")
        return
    try:
        await _serve_until_expiry(runtime, websocket, limits, caller)
    finally:
        limits.close_socket(user_id)


async def _serve_until_expiry(
    runtime: Runtime, websocket: WebSocket, limits: UserLimits, caller: Caller
) -> None:
    """Serve the socket; when its token expires, close it (4001, "token expired")."""

    async def expire() -> None:
        await anyio.sleep(max(0.0, (caller.expires_at or 0.0) - time.time()))
        log.info("socket of %s closed: token expired", caller.user_id)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=4001, reason="token expired")

    await websocket.accept()
    async with anyio.create_task_group() as watchdog:
        watchdog.start_soon(expire)
        await _serve_open(runtime, websocket, limits, caller)
        watchdog.cancel_scope.cancel()


async def _serve_open(
    runtime: Runtime, websocket: WebSocket, limits: UserLimits, caller: Caller
) -> None:
    user_id = caller.user_id
    conn_id = next(_conn_ids)
    send_lock = anyio.Lock()

    async def send(reply: dict[str, Any]) -> None:
        async with send_lock:
            await websocket.send_text(reply_size.fit(reply))  # API Gateway's 128 KB cap too

    runtime.connections.add(user_id, conn_id, send)
    showtime.tell_user(runtime.services, user_id)  # in line from before a reload: its place now
    try:
        await _serve_frames(runtime, websocket, limits, caller, conn_id, send)
    finally:
        runtime.connections.remove(user_id, conn_id)


async def _serve_frames(
    runtime: Runtime,
    websocket: WebSocket,
    limits: UserLimits,
    caller: Caller,
    conn_id: int,
    send: Send,
) -> None:
    """Refusals, and reads of an embedded store (microseconds), are answered right here, in
    order; anything that writes or may call Stripe runs in a worker thread, up to
    MAX_IN_FLIGHT_PER_CONNECTION at once. The services carry the caller's email (receipts)."""
    user_id = caller.user_id
    services = runtime.services.for_caller(caller.email)
    inline_reads = services.store.fast_reads
    bucket = TokenBucket(*parse_limit(runtime.config.rate_limit))
    slots = anyio.Semaphore(MAX_IN_FLIGHT_PER_CONNECTION)

    async def in_thread(request: protocol.Request, started: float) -> None:
        try:
            reply = await anyio.to_thread.run_sync(protocol.answer, services, user_id, request)
            await send(reply)
            _log_frame(user_id, conn_id, reply, started)
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client left while we worked; the records are already written
        finally:
            slots.release()

    async with anyio.create_task_group() as tasks:
        while (frame := _frame_of(await websocket.receive())) is not None:
            started = time.perf_counter()
            parsed = _admit(limits, user_id, bucket, frame)
            if isinstance(parsed, dict):
                reply = parsed
            elif parsed.route.reads_only and inline_reads:
                reply = protocol.answer(services, user_id, parsed)
            else:
                await slots.acquire()
                tasks.start_soon(in_thread, parsed, started)
                continue
            await send(reply)
            _log_frame(user_id, conn_id, reply, started)


def _admit(
    limits: UserLimits, user_id: str, bucket: TokenBucket, frame: str | bytes
) -> protocol.Request | dict[str, Any]:
    """The parsed request, or the refusal: this socket's rate, the user's across all their
    sockets, and (for actions that write to Stripe) the user's per-minute allowance."""
    if not bucket.take():
        return protocol.refuse(frame, RateLimited())
    if not limits.take_frame(user_id):
        return protocol.refuse(frame, too_many_frames())
    parsed = protocol.parse(frame)
    if isinstance(parsed, dict):
        return parsed
    return refuse_stripe_write(parsed, user_id, limits.take_stripe_write) or parsed


def _frame_of(msg: Mapping[str, Any]) -> str | bytes | None:
    """The frame in an ASGI websocket event; None when the client has gone."""
    if msg["type"] == "websocket.disconnect":
        return None
    text = msg.get("text")
    return text if text is not None else (msg.get("bytes") or b"")


def _log_frame(user_id: str, conn_id: int, reply: dict[str, Any], started: float) -> None:
    """One structured line per frame: who, which request, which answer, how long. Never the
    message body (it may hold a client secret)."""
    message = reply.get("message") or {}
    log.info(
        "frame",
        extra={
            "request_id": reply.get("requestId") or f"srv-{uuid.uuid4()}",
            "user_id": user_id,
            "connection": conn_id,
            "reply": reply.get("action"),
            "code": message.get("code") if isinstance(message, dict) else None,
            "ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
