"""The one-process server: WebSocket API at /ws, Stripe webhook, config, health, the page."""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from couchpay import protocol
from couchpay.bootstrap import Runtime
from couchpay.domain.errors import RateLimited, Unauthorized
from couchpay.entrypoints.webhook_endpoint import verify_webhook
from couchpay.ports.identity import Caller, email_claim
from couchpay.ratelimit import TokenBucket, parse_limit

log = logging.getLogger(__name__)
Send = Callable[[dict[str, Any]], Awaitable[None]]
MAX_IN_FLIGHT_PER_CONNECTION = 8
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
USER_ID = re.compile(r"[A-Za-z0-9._@-]{1,64}")
_conn_ids = itertools.count(1)

PLACEHOLDER_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>couchpay</title></head><body><h1>couchpay</h1>
<p>The payment service of couchtour.tv is running. The WebSocket API is at <code>/ws?token=</code>.
</p></body></html>"""


def create_app(runtime: Runtime) -> Starlette:
    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def config(request: Request) -> Response:
        return JSONResponse(
            {
                "publishableKey": runtime.publishable_key,
                "stripeJsUrl": runtime.stripe_js_url,
                "stripeApiBase": runtime.stripe_api_base,
            }
        )

    async def index(request: Request) -> Response:
        return HTMLResponse(PLACEHOLDER_PAGE)

    async def dev_token(request: Request) -> Response:
        """Local sign-in for the page: loopback callers only, and only without a real IdP."""
        client = request.client.host if request.client else ""
        if not runtime.config.dev_sign_in or client not in LOOPBACK:
            return JSONResponse({"error": "not found"}, status_code=404)
        try:
            body = await request.json()
            user_id = body["userId"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": 'send {"userId": ...}'}, status_code=400)
        if not isinstance(user_id, str) or not USER_ID.fullmatch(user_id):
            return JSONResponse({"error": "userId: 1-64 of A-Z a-z 0-9 . _ @ -"}, status_code=400)
        email = body.get("email") or None
        if email is not None and email_claim({"email": email}) is None:
            return JSONResponse({"error": "email: not a valid email address"}, status_code=400)
        token = runtime.tokens.mint(user_id, email=email)
        return JSONResponse({"token": token, "userId": user_id})

    async def webhook(request: Request) -> Response:
        body = await request.body()
        header = request.headers.get("stripe-signature", "")
        result = await anyio.to_thread.run_sync(verify_webhook, runtime, body, header)
        return JSONResponse(result.body, status_code=result.status)

    async def socket(websocket: WebSocket) -> None:
        await serve_socket(runtime, websocket)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        runtime.close()  # here, not after uvicorn returns: it re-raises SIGTERM on its way out

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/config", config),
        Route("/dev/token", dev_token, methods=["POST"]),
        Route("/stripe/webhook", webhook, methods=["POST"]),
        WebSocketRoute("/ws", socket),
    ]
    dist = runtime.config.web_dist
    if (dist / "index.html").is_file():
        # the page's own URLs (a receipt: /purchases/<id>) load the page, which routes itself
        routes.append(Route("/purchases/{transaction_id}", _page(dist / "index.html")))
        routes.append(Mount("/", StaticFiles(directory=dist, html=True)))
    else:
        routes.append(Route("/", index))
    return Starlette(lifespan=lifespan, routes=routes)


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


async def serve_socket(runtime: Runtime, websocket: WebSocket) -> None:
    token = websocket.query_params.get("token", "")
    try:
        caller = runtime.tokens.caller(token)
    except Unauthorized:
        await websocket.close(code=4401, reason="unauthorized")  # refused before accept: HTTP 403
        return
    if not origin_allowed(runtime, websocket):
        log.warning("socket refused: origin %r not allowed", websocket.headers.get("origin"))
        await websocket.close(code=4403, reason="origin not allowed")
        return
    await websocket.accept()
    conn_id = next(_conn_ids)
    send_lock = anyio.Lock()

    async def send(reply: dict[str, Any]) -> None:
        async with send_lock:
            await websocket.send_text(json.dumps(reply))

    user_id = caller.user_id
    runtime.connections.add(user_id, conn_id, send)
    try:
        await _serve_frames(runtime, websocket, caller, conn_id, send)
    finally:
        runtime.connections.remove(user_id, conn_id)


async def _serve_frames(
    runtime: Runtime, websocket: WebSocket, caller: Caller, conn_id: int, send: Send
) -> None:
    """Refusals, and reads of an embedded store (microseconds), are answered right here, in
    order; anything that writes or may call Stripe runs in a worker thread, up to
    MAX_IN_FLIGHT_PER_CONNECTION at once."""
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
            parsed = (
                protocol.parse(frame) if bucket.take() else protocol.refuse(frame, RateLimited())
            )
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


def _page(index_html: Path) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        return FileResponse(index_html, media_type="text/html")

    return page


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
