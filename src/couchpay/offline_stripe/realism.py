"""A Stripe stand-in that behaves like Stripe under load: an HTTP proxy on 127.0.0.1 in front of
a localstripe that adds Stripe's latency and Stripe's documented rate limits, and counts.

    python -m couchpay.offline_stripe.realism --upstream http://127.0.0.1:PORT --mode test
    # prints REALISM_URL=http://127.0.0.1:<port>; point STRIPE_API_BASE at it

    # in tests and benchmarks (realism_harness): a thread, or a child process
    with StripeRealism(localstripe.api_base, RealismSettings(seed=1)) as stripe_like:
        client = stripe.StripeClient(key, base_addresses={"api": stripe_like.url})
        stripe_like.stats()["rate_limited"]

Rules (``realism_rules``): a ``/v1/`` request beyond the account or endpoint limit (rolling
one-second windows) is answered at once with HTTP 429, Stripe's ``rate_limit`` error body and
``Stripe-Should-Retry: false`` (the header Stripe's SDKs obey; Stripe's SDKs retry a 429 only
when it is an object-lock timeout, never a rate limit, per Stripe's maintainers in
stripe/stripe-dotnet#1886); it never reaches localstripe. An
admitted request is forwarded, then answered no sooner than its drawn latency after it arrived
(localstripe acts at once, as Stripe may act before a slow answer arrives). Anything else
(localstripe's ``/_config``) is forwarded as is.

Its own API (never limited): ``GET /_realism/stats`` (JSON counters), ``DELETE /_realism/stats``
(reset, windows included), ``GET|POST /_realism/settings`` (read / change the settings, JSON;
``{"enabled": false}`` forwards with no limit or delay, for setting up a benchmark).

Invariant: a request refused with 429 has no effect upstream; every admitted one is forwarded
exactly once (the stand-in never retries).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web

from couchpay.offline_stripe.realism_rules import (
    RATE_LIMIT_MESSAGE,
    Latency,
    RealismSettings,
    RollingWindows,
    Stats,
    endpoint_of,
    is_stripe_api,
)

URL_PREFIX = "REALISM_URL="
CREATE_INTENT = "POST /v1/payment_intents"
_HOP_BY_HOP = {
    "host",
    "connection",
    "keep-alive",
    "content-length",
    "transfer-encoding",
    "content-encoding",
}


class RealismProxy:
    """The aiohttp application and its state; one event loop owns it."""

    def __init__(self, upstream: str, settings: RealismSettings) -> None:
        settings.check()
        self.upstream = upstream.rstrip("/")
        self.settings = settings
        self.windows = RollingWindows()
        self.latency = Latency(settings.seed)
        self.stats = Stats()
        self._session: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=2**24)
        app.router.add_route("GET", "/_realism/stats", self._get_stats)
        app.router.add_route("DELETE", "/_realism/stats", self._reset)
        app.router.add_route("GET", "/_realism/settings", self._get_settings)
        app.router.add_route("POST", "/_realism/settings", self._set_settings)
        app.router.add_route("*", "/{tail:.*}", self._proxy)
        app.on_startup.append(self._open)
        app.on_cleanup.append(self._close)
        return app

    async def _open(self, _: web.Application) -> None:
        connector = aiohttp.TCPConnector(limit=0)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=True, trust_env=False
        )

    async def _close(self, _: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    # own API -----------------------------------------------------------------------------
    async def _get_stats(self, _: web.Request) -> web.Response:
        return web.json_response({**self.stats.snapshot(), "settings": self.settings.as_json()})

    async def _reset(self, _: web.Request) -> web.Response:
        self.stats = Stats()
        self.windows = RollingWindows()
        return web.json_response({"reset": True})

    async def _get_settings(self, _: web.Request) -> web.Response:
        return web.json_response(self.settings.as_json())

    async def _set_settings(self, request: web.Request) -> web.Response:
        try:
            changes = await request.json()
            if not isinstance(changes, dict):
                raise ValueError("send a JSON object of settings")
            self.settings = self.settings.updated(changes)
        except (ValueError, TypeError) as exc:
            return web.json_response({"code": "bad_settings", "error": str(exc)}, status=400)
        if "seed" in changes:
            self.latency = Latency(self.settings.seed)
        return web.json_response(self.settings.as_json())

    # the proxy ---------------------------------------------------------------------------
    async def _proxy(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        body = await request.read()
        endpoint = endpoint_of(request.method, request.path)
        limited = is_stripe_api(request.path) and self.settings.enabled
        delay = 0.0
        if endpoint == CREATE_INTENT:
            self.stats.intent_request(_transaction_of(body))
        if is_stripe_api(request.path):
            self.stats.seen(endpoint, time.time())
        if limited:
            refused = self.windows.admit(endpoint, arrived, self.settings)
            if refused is not None:
                self.stats.refused(endpoint, refused)
                return _rate_limited()
            delay = self.latency.draw(endpoint, self.settings)
        status, headers, content = await self._forward(request, body)
        if is_stripe_api(request.path):
            self.stats.answered(endpoint, status)
            if endpoint == CREATE_INTENT and 200 <= status < 300:
                self._count_intent(request, body, content)
        remaining = delay - (time.monotonic() - arrived)
        if remaining > 0:
            await asyncio.sleep(remaining)
        return web.Response(status=status, body=content, headers=headers)

    async def _forward(
        self, request: web.Request, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            async with self._session.request(
                request.method,
                self.upstream + request.path_qs,
                headers=headers,
                data=body,
                allow_redirects=False,
            ) as answer:
                content = await answer.read()
                kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
                return answer.status, kept, content
        except aiohttp.ClientError as exc:
            self.stats.upstream_errors += 1
            error = {"error": {"type": "api_error", "message": f"upstream unreachable: {exc}"}}
            return 502, {"Content-Type": "application/json"}, json.dumps(error).encode()

    def _count_intent(self, request: web.Request, body: bytes, content: bytes) -> None:
        try:
            intent_id = str(json.loads(content)["id"])
        except (ValueError, KeyError, TypeError):
            return
        key = request.headers.get("Idempotency-Key")
        self.stats.intent(key, _transaction_of(body), intent_id)


def _transaction_of(body: bytes) -> str | None:
    """couchpay's ``metadata[transaction_id]`` in a form-encoded PaymentIntent create."""
    values = parse_qs(body.decode("utf-8", "replace")).get("metadata[transaction_id]")
    return values[0] if values else None


def _rate_limited() -> web.Response:
    error = {
        "error": {
            "type": "invalid_request_error",
            "code": "rate_limit",
            "message": RATE_LIMIT_MESSAGE,
            "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
        }
    }
    headers = {"Stripe-Should-Retry": "false", "Request-Id": f"req_{secrets.token_hex(7)}"}
    return web.json_response(error, status=429, headers=headers)


async def serve(
    proxy: RealismProxy, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, int]:
    """Start listening; returns the runner (``await runner.cleanup()`` stops) and the port."""
    runner = web.AppRunner(proxy.app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=4096)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    return runner, int(sockets[0].getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m couchpay.offline_stripe.realism", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--upstream", help="localstripe's base URL (default: start one)")
    parser.add_argument("--mode", choices=("test", "live"), default="test")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--account-limit", type=int, help="requests/s (default: 25 test, 100 live)")
    parser.add_argument("--endpoint-limit", type=int, default=25, help="requests/s per endpoint")
    parser.add_argument("--slow-latency", default="0.4,0.8", help="PaymentIntent create/confirm, s")
    parser.add_argument("--fast-latency", default="0.1,0.25", help="other calls, s")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--disabled", action="store_true", help="start with no limit or delay")
    args = parser.parse_args(argv)
    settings = RealismSettings(
        mode=args.mode,
        account_limit=args.account_limit,
        endpoint_limit=args.endpoint_limit,
        slow_latency=_range(args.slow_latency),
        fast_latency=_range(args.fast_latency),
        seed=args.seed,
        enabled=not args.disabled,
    )
    try:
        settings.check()
    except ValueError as exc:
        parser.error(str(exc))
    if args.upstream:
        return asyncio.run(_serve_forever(RealismProxy(args.upstream, settings), args))
    from couchpay.offline_stripe.process import LocalStripe

    with LocalStripe() as localstripe:
        return asyncio.run(_serve_forever(RealismProxy(localstripe.api_base, settings), args))


def _range(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    return float(low), float(high or low)


async def _serve_forever(proxy: RealismProxy, args: argparse.Namespace) -> int:
    runner, port = await serve(proxy, args.host, args.port)
    print(f"{URL_PREFIX}http://{args.host}:{port}", flush=True)
    print(f"  upstream {proxy.upstream}; {json.dumps(proxy.settings.as_json())}", file=sys.stderr)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
