"""What every HTTP answer of ``couchpay serve`` carries, and how much of a request it reads.

- Security headers on every HTTP response (``SecurityHeaders``, an ASGI middleware): a Content
  Security Policy that lets the page run its own scripts, Stripe.js (from js.stripe.com, or the
  offline stand-in at the URL ``/config`` hands out) and connect back to this server's WebSocket
  (CSP ``'self'`` covers ws:/wss: to the same host), and nothing else; framing refused
  (``X-Frame-Options: DENY``, ``frame-ancestors 'none'``); ``nosniff``; no referrer.
- ``read_capped``: a request body is read only up to a limit. A ``Content-Length`` over it is
  refused before a byte is read; a chunked body is read chunk by chunk and abandoned the moment
  it passes the limit, so memory per request stays bounded whatever the client sends."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STRIPE_SOURCES = {
    "script": ("https://js.stripe.com", "https://*.js.stripe.com"),
    "frame": ("https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"),
    "connect": ("https://api.stripe.com",),
}


def content_security_policy(stripe_js_url: str, stripe_api_base: str) -> str:
    """The page's policy; the offline stand-in's origin is added where Stripe's would be."""
    offline = _origin(stripe_js_url)
    api = _origin(stripe_api_base)

    def sources(*names: str) -> str:
        return " ".join(dict.fromkeys(n for n in names if n))

    own = "'self'"
    scripts = sources(own, offline, *STRIPE_SOURCES["script"])
    connects = sources(own, api, offline, *STRIPE_SOURCES["connect"])
    frames = sources(*STRIPE_SOURCES["frame"])
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {scripts}",
            f"connect-src {connects}",
            f"frame-src {frames}",
            "style-src 'self' 'unsafe-inline'",  # Stripe Elements and the stand-in style inline
            "img-src 'self' data: https://*.stripe.com",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def security_headers(csp: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", csp.encode("latin-1")),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]


class SecurityHeaders:
    """Adds ``security_headers`` to every HTTP response (WebSocket handshakes untouched)."""

    def __init__(self, app: ASGIApp, headers: Iterable[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.headers = list(headers)
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [h for h in message.get("headers", []) if h[0].lower() not in self.names]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyTooLarge(ValueError):
    """The request body is larger than the endpoint takes (answer 413)."""


async def read_capped(request: Request, limit: int) -> bytes:
    """The whole body if it is at most ``limit`` bytes; ``BodyTooLarge`` as soon as it is not."""
    declared = request.headers.get("content-length")
    if declared is not None and (
        not declared.isdigit() or len(declared) > 18 or int(declared) > limit
    ):
        raise BodyTooLarge(declared)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(f">{limit}")
    return bytes(body)


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL ('' if it has none)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if sep and rest else ""
