"""The Stripe SDK's HTTP client under a time budget (``couchpay.time_budget``): each request's
timeout is read when it is made, at most the configured one and never past what the current
budget leaves (a ContextVar, so each thread and each Lambda invocation has its own)."""

from __future__ import annotations

import stripe

from couchpay import time_budget


class BudgetedRequestsClient(stripe.RequestsClient):
    """The SDK's requests client, its timeout read per request: at most the configured one,
    and never past the current time budget (read from a ContextVar, so thread-safe)."""

    def __init__(self, timeout: float) -> None:
        self._configured_timeout = timeout
        super().__init__(timeout=timeout)

    @property
    def _timeout(self) -> float:
        return max(0.01, time_budget.capped(self._configured_timeout))

    @_timeout.setter
    def _timeout(self, value: float) -> None:
        self._configured_timeout = value
