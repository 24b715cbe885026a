"""The one-process server: WebSocket API at /ws (``local_socket``), Stripe webhook (on threads of
its own), config, health, /metrics, the page; the admission line and the settlement pass run in
its lifespan (``line_runner``), and so does the fulfillment events' delivery (``event_runner``).
Request bodies are read only up to a limit (``http_guard``);
every HTTP response carries the security headers."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from couchpay.bootstrap import Runtime
from couchpay.entrypoints import event_runner, line_runner
from couchpay.entrypoints.local_socket import serve_socket
from couchpay.entrypoints.webhook_endpoint import verify_webhook
from couchpay.http_guard import (
    BodyTooLarge,
    SecurityHeaders,
    content_security_policy,
    read_capped,
    security_headers,
)
from couchpay.limits import UserLimits
from couchpay.local_sign_in import log_issued, may_sign_in
from couchpay.ports.identity import email_claim
from couchpay.ratelimit import parse_limit

log = logging.getLogger(__name__)
Send = Callable[[dict[str, Any]], Awaitable[None]]
WEBHOOK_THREADS = 8
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PAGE_TOKEN_TTL_SECONDS = 12 * 3600
USER_ID = re.compile(r"[A-Za-z0-9._@-]{1,64}")

PLACEHOLDER_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>couchpay</title></head><body><h1>couchpay</h1>
<p>The payment service of couchtour.tv is running. The WebSocket API is at <code>/ws?token=</code>.
</p></body></html>"""


def user_limits(runtime: Runtime) -> UserLimits:
    c = runtime.config
    rate, burst = parse_limit(c.user_rate_limit)
    return UserLimits(c.max_sockets_per_user, rate, burst, c.stripe_writes_per_minute)


def create_app(runtime: Runtime) -> SecurityHeaders:
    limits = user_limits(runtime)

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
        """Local sign-in for the page: only while it is on, only from this machine itself."""
        peer = request.client.host if request.client else None
        if not runtime.config.dev_sign_in or not may_sign_in(peer, request.headers):
            return JSONResponse({"error": "not found"}, status_code=404)
        try:
            body = json.loads(await read_capped(request, 4096))
            user_id = body["userId"]
        except (ValueError, KeyError, TypeError):  # BodyTooLarge is a ValueError
            return JSONResponse({"error": 'send {"userId": ...}'}, status_code=400)
        if not isinstance(user_id, str) or not USER_ID.fullmatch(user_id):
            return JSONResponse({"error": "userId: 1-64 of A-Z a-z 0-9 . _ @ -"}, status_code=400)
        email = body.get("email") or None
        if email is not None and email_claim({"email": email}) is None:
            return JSONResponse({"error": "email: not a valid email address"}, status_code=400)
        token = runtime.tokens.mint(user_id, PAGE_TOKEN_TTL_SECONDS, email=email)
        log_issued(user_id, PAGE_TOKEN_TTL_SECONDS, peer)
        return JSONResponse({"token": token, "userId": user_id})

    webhook_threads: list[anyio.CapacityLimiter] = []

    async def webhook(request: Request) -> Response:
        try:
            with anyio.fail_after(runtime.config.handshake_timeout_seconds):
                body = await read_capped(request, runtime.config.webhook_max_bytes)
        except BodyTooLarge:  # the rest is never read: close instead of draining it
            return JSONResponse({"error": "body too large"}, 413, {"Connection": "close"})
        except TimeoutError:
            return JSONResponse({"error": "body too slow"}, 408, {"Connection": "close"})
        header = request.headers.get("stripe-signature", "")
        if not webhook_threads:  # threads of its own: never starved by purchases
            webhook_threads.append(anyio.CapacityLimiter(WEBHOOK_THREADS))
        result = await anyio.to_thread.run_sync(
            verify_webhook, runtime, body, header, limiter=webhook_threads[0]
        )
        return JSONResponse(result.body, status_code=result.status)

    async def metrics(request: Request) -> Response:
        exposition = getattr(runtime.services.metrics, "exposition", None)
        if exposition is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(exposition(), media_type=METRICS_CONTENT_TYPE)

    async def socket(websocket: WebSocket) -> None:
        await serve_socket(runtime, websocket, limits)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as background:
            background.start_soon(line_runner.run, runtime.services, runtime.config)
            background.start_soon(
                event_runner.run, runtime.config, runtime.services.store, runtime.services.metrics
            )
            yield
            background.cancel_scope.cancel()
        runtime.close()  # here, not after uvicorn returns: it re-raises SIGTERM on its way out

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/metrics", metrics),
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
    app = Starlette(lifespan=lifespan, routes=routes)
    csp = content_security_policy(runtime.stripe_js_url, runtime.stripe_api_base)
    return SecurityHeaders(app, security_headers(csp))


def _page(index_html: Path) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        return FileResponse(index_html, media_type="text/html")

    return page
