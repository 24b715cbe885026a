"""The Metrics port: what operators watch at showtime, told by the use cases as it happens.

Adapters: Prometheus (``couchpay serve``'s ``GET /metrics``); the default records nothing. Figures
read off state (line length, oldest pending purchase) are gauges the adapter samples itself.
Invariant: recording never raises into a use case and never carries personal data (no user ids,
no card data): outcomes, codes, durations."""

from __future__ import annotations


class Metrics:
    def purchase_settled(self, status: str, code: str | None) -> None:
        """A purchase reached ``status`` (``code``: the failure code, if any)."""

    def stripe_call(self, seconds: float, outcome: str) -> None:
        """One PaymentIntent call to Stripe: ``ok``, ``declined``, ``rate_limited`` (429) or
        ``unavailable``."""

    def line_wait(self, seconds: float) -> None:
        """How long a purchase waited in the line before it went to Stripe."""

    def sold_out(self, item_id: str) -> None:
        """A fan was told an item is sold out."""

    def open_purchases(self, count: int, oldest_seconds: float) -> None:
        """Open (queued, pending, 3-D Secure) purchases and the age of the oldest, as the
        settlement pass saw them."""

    def pending_events(self, count: int, oldest_seconds: float) -> None:
        """Fulfillment events not yet acknowledged by every receiver (as many as one delivery
        pass looks at) and the age of the oldest of them."""
