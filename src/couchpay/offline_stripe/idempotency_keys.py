"""Idempotency-Key for localstripe, as real Stripe does it.

localstripe 1.15.10 ignores the ``Idempotency-Key`` header, so a client that retries a POST after
a lost response would create a second object there, where real Stripe replays the first answer.
This middleware, installed only by our localstripe launcher, makes the fake behave like the
real API: per (API key, Idempotency-Key), the first non-5xx answer is kept and replayed (header
``Idempotent-Replayed: true``); the same key with other parameters is a 400
``idempotency_error``; concurrent requests with one key are answered one after the other.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[[Any], Awaitable[Any]]
MISMATCH = {
    "error": {
        "type": "idempotency_error",
        "message": "Keys for idempotent requests can only be used with the same parameters "
        "they were first used with.",
    }
}


@dataclass(frozen=True)
class _Kept:
    fingerprint: str
    status: int
    body: bytes
    content_type: str


def idempotency_middleware() -> Any:
    from aiohttp import web
    from localstripe.errors import UserError

    kept: dict[tuple[str, str, str], _Kept] = {}
    locks: dict[tuple[str, str, str], asyncio.Lock] = {}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            response: web.StreamResponse = await handler(request)
            return response
        scope = (request.headers.get("Authorization", ""), request.path, key)
        fingerprint = hashlib.sha256(await request.read()).hexdigest()
        async with locks.setdefault(scope, asyncio.Lock()):
            previous = kept.get(scope)
            if previous is not None:
                if previous.fingerprint != fingerprint:
                    return web.json_response(MISMATCH, status=400, dumps=json.dumps)
                replay = web.Response(
                    body=previous.body, status=previous.status, content_type=previous.content_type
                )
                replay.headers["Idempotent-Replayed"] = "true"
                return replay
            try:
                response = await handler(request)
            except UserError as exc:  # localstripe's errors (402 declines included) are answers
                response = exc.to_response()
            except web.HTTPException as exc:
                response = exc
            if isinstance(response, web.Response) and response.status < 500:
                body = response.body if isinstance(response.body, bytes) else b""
                kept[scope] = _Kept(fingerprint, response.status, body, response.content_type)
            return response

    return middleware
