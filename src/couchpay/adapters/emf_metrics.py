"""The Metrics port on AWS: CloudWatch metrics in Embedded Metric Format, through Powertools for
AWS Lambda (``aws_lambda_powertools.Metrics``): one structured log line per flush, which
CloudWatch turns into metrics of namespace ``couchpay`` (no PutMetricData call, no extra
permission). Figures are gathered during an invocation and written by ``flush``.

Names: ``OpenPurchases``, ``OldestPendingSeconds`` and ``OldestPendingEventSeconds`` (alarms in
aws/alarms.yml), ``PendingEvents``, ``StripeCalls``
and ``StripeRateLimited``, ``StripeCallSeconds``, ``LineWaitSeconds``, ``SoldOut`` and
``PurchasesSettled``; no dimensions (alarms watch the whole service)."""

from __future__ import annotations

from aws_lambda_powertools import Metrics as Powertools
from aws_lambda_powertools.metrics import MetricUnit

from couchpay.ports.metrics import Metrics

NAMESPACE = "couchpay"


class EmfMetrics(Metrics):
    def __init__(self, namespace: str = NAMESPACE) -> None:
        self._emf = Powertools(namespace=namespace, service="couchpay")

    def purchase_settled(self, status: str, code: str | None) -> None:
        self._emf.add_metric(name="PurchasesSettled", unit=MetricUnit.Count, value=1)

    def stripe_call(self, seconds: float, outcome: str) -> None:
        self._emf.add_metric(name="StripeCalls", unit=MetricUnit.Count, value=1)
        self._emf.add_metric(name="StripeCallSeconds", unit=MetricUnit.Seconds, value=seconds)
        if outcome == "rate_limited":
            self._emf.add_metric(name="StripeRateLimited", unit=MetricUnit.Count, value=1)

    def line_wait(self, seconds: float) -> None:
        self._emf.add_metric(name="LineWaitSeconds", unit=MetricUnit.Seconds, value=seconds)

    def sold_out(self, item_id: str) -> None:
        self._emf.add_metric(name="SoldOut", unit=MetricUnit.Count, value=1)

    def open_purchases(self, count: int, oldest_seconds: float) -> None:
        self._emf.add_metric(name="OpenPurchases", unit=MetricUnit.Count, value=count)
        self._emf.add_metric(
            name="OldestPendingSeconds", unit=MetricUnit.Seconds, value=oldest_seconds
        )

    def pending_events(self, count: int, oldest_seconds: float) -> None:
        self._emf.add_metric(name="PendingEvents", unit=MetricUnit.Count, value=count)
        self._emf.add_metric(
            name="OldestPendingEventSeconds", unit=MetricUnit.Seconds, value=oldest_seconds
        )

    def flush(self) -> None:
        """Write what was gathered as one EMF log line (nothing when nothing was gathered)."""
        self._emf.flush_metrics(raise_on_empty_metrics=False)
