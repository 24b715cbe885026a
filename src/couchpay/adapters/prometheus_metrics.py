"""The Metrics port on prometheus-client, for ``couchpay serve``'s ``GET /metrics``.

One registry per process (not the library's global one, so tests and several runtimes in one
process never share counters). Line length, in-flight calls, the line's rate and the oldest wait
are read off the line when Prometheus scrapes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from couchpay.ports.metrics import Metrics
from couchpay.service.admission import Line

_SECONDS = (0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30, 60, 120, 300, 600)


class PrometheusMetrics(Metrics):
    def __init__(self, line: Line | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self._purchases = Counter(
            "couchpay_purchases",
            "Purchases settled, by status and code",
            ["status", "code"],
            registry=r,
        )
        self._stripe = Histogram(
            "couchpay_stripe_call_seconds",
            "PaymentIntent calls to Stripe, by outcome",
            ["outcome"],
            buckets=_SECONDS,
            registry=r,
        )
        self._stripe_429 = Counter(
            "couchpay_stripe_rate_limited", "Stripe answers of HTTP 429", registry=r
        )
        self._wait = Histogram(
            "couchpay_line_wait_seconds",
            "Time in line before going to Stripe",
            buckets=_SECONDS,
            registry=r,
        )
        self._sold_out = Counter(
            "couchpay_sold_out", "Fans told an item is sold out", ["item_id"], registry=r
        )
        self._open = Gauge("couchpay_open_purchases", "Queued, pending or 3-D Secure", registry=r)
        self._oldest = Gauge(
            "couchpay_oldest_open_purchase_seconds", "Age of the oldest open purchase", registry=r
        )
        self._events = Gauge(
            "couchpay_pending_events", "Fulfillment events not yet acknowledged", registry=r
        )
        self._oldest_event = Gauge(
            "couchpay_oldest_pending_event_seconds", "Age of the oldest pending event", registry=r
        )
        if line is not None:
            Gauge("couchpay_line_length", "Purchases waiting", registry=r).set_function(line.length)
            Gauge("couchpay_line_in_flight", "Purchases with Stripe now", registry=r).set_function(
                line.in_flight
            )
            Gauge(
                "couchpay_line_oldest_wait_seconds", "Wait of the first in line", registry=r
            ).set_function(line.oldest_wait)
            Gauge(
                "couchpay_line_rate_per_second", "Purchases sent to Stripe a second", registry=r
            ).set_function(lambda: line.rate)

    def purchase_settled(self, status: str, code: str | None) -> None:
        self._purchases.labels(status=status, code=code or "").inc()

    def stripe_call(self, seconds: float, outcome: str) -> None:
        self._stripe.labels(outcome=outcome).observe(seconds)
        if outcome == "rate_limited":
            self._stripe_429.inc()

    def line_wait(self, seconds: float) -> None:
        self._wait.observe(seconds)

    def sold_out(self, item_id: str) -> None:
        self._sold_out.labels(item_id=item_id).inc()

    def open_purchases(self, count: int, oldest_seconds: float) -> None:
        self._open.set(count)
        self._oldest.set(oldest_seconds)

    def pending_events(self, count: int, oldest_seconds: float) -> None:
        self._events.set(count)
        self._oldest_event.set(oldest_seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
