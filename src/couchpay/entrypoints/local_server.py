"""The one-process server: WebSocket API at /ws, Stripe webhook, config, health, the page."""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from couchpay.bootstrap import Runtime
from couchpay.domain.errors import Unauthorized
from couchpay.entrypoints.webhook_endpoint import verify_webhook
from couchpay.protocol import handle_frame

log = logging.getLogger(__name__)
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
        return JSONResponse({"token": runtime.tokens.mint(user_id), "userId": user_id})

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
        routes.append(Mount("/", StaticFiles(directory=dist, html=True)))
    else:
        routes.append(Route("/", index))
    return Starlette(lifespan=lifespan, routes=routes)


async def serve_socket(runtime: Runtime, websocket: WebSocket) -> None:
    token = websocket.query_params.get("token", "")
    try:
        user_id = runtime.tokens.verify(token)
    except Unauthorized:
        await websocket.close(code=4401, reason="unauthorized")  # refused before accept: HTTP 403
        return
    await websocket.accept()
    conn_id = next(_conn_ids)
    send_lock = anyio.Lock()
    slots = anyio.Semaphore(MAX_IN_FLIGHT_PER_CONNECTION)

    async def send(reply: dict[str, Any]) -> None:
        async with send_lock:
            await websocket.send_text(json.dumps(reply))

    async def answer(frame: str | bytes) -> None:
        try:
            reply = await anyio.to_thread.run_sync(handle_frame, runtime.services, user_id, frame)
            await send(reply)
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client left while we worked; the records are already written
        finally:
            slots.release()

    runtime.connections.add(user_id, conn_id, send)
    try:
        async with anyio.create_task_group() as tasks:
            while True:
                msg = await websocket.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                frame = msg.get("text")
                if frame is None:
                    frame = msg.get("bytes") or b""
                await slots.acquire()
                tasks.start_soon(answer, frame)
    finally:
        runtime.connections.remove(user_id, conn_id)
