"""A localstripe of our own (in memory) with `couchpay serve` in front of it, and what a page
does to get a wallet card: make the PaymentMethod at "Stripe.js", then ``create-payment-method``.
Statistics helpers live here too."""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from tests.stripe_browser import create_payment_method

from bench.servers import CouchpayServer
from couchpay.client import CouchpayClient
from couchpay.offline_stripe.process import LocalStripe

VISA, VISA_2 = "4242424242424242", "4111111111111111"
SECRET_KEY = "sk_test_couchpay_offline"  # noqa: S105 - what couchpay sends to a localstripe


class Stack:
    """localstripe (in memory, no store file) + `couchpay serve` with STRIPE_API_BASE at it."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.localstripe = LocalStripe().start()
        try:
            self.server = CouchpayServer(workdir / "couchpay", self.localstripe.api_base)
        except BaseException:
            self.localstripe.stop()
            raise

    @property
    def api_base(self) -> str:
        return self.localstripe.api_base

    def close(self) -> None:
        try:
            self.server.stop()
        finally:
            self.localstripe.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


async def connect(server: CouchpayServer, user_id: str) -> CouchpayClient:
    return await CouchpayClient.connect(server.ws_url, server.token(user_id))


async def save_card(client: CouchpayClient, api_base: str, number: str = VISA) -> str:
    """Save a card the way the page does; returns its card id."""
    pm = create_payment_method(api_base, number)
    reply = await client.call("create-payment-method", {"stripePayment": pm})
    if reply["action"] != "create-payment-method-resp-success":
        raise RuntimeError(f"could not save a card: {reply}")
    return str(reply["message"]["uuid"])


async def demo_cart(client: CouchpayClient) -> list[dict[str, Any]]:
    reply = await client.call("get-items")
    if reply["action"] != "get-items-resp-success":
        raise RuntimeError(f"get-items failed: {reply}")
    return [
        {"item_id": i["itemId"], "price_cents": i["priceCents"], "quantity": 1}
        for i in reply["message"]["items"]
    ]


# statistics ----------------------------------------------------------------------------------
def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "mean": statistics.fmean(values),
        "min": min(values),
        "max": max(values),
    }
