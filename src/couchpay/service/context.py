"""What every handler gets: the ports, the clock and the pricing settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from fractions import Fraction

from couchpay.domain.pricing import DEFAULT_STREAMING_RATE
from couchpay.ports.gateway import PaymentGateway
from couchpay.ports.metrics import Metrics
from couchpay.ports.notifier import Notifier, NullNotifier
from couchpay.ports.store import Store
from couchpay.service.admission import Line
from couchpay.service.shared_line import SharedLine


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Pricing:
    currency: str = "usd"
    streaming_rate: Fraction = DEFAULT_STREAMING_RATE


@dataclass
class Services:
    store: Store
    gateway: PaymentGateway
    notifier: Notifier = field(default_factory=NullNotifier)
    pricing: Pricing = field(default_factory=Pricing)
    now: Callable[[], datetime] = utc_now
    metrics: Metrics = field(default_factory=Metrics)
    line: Line | None = None
    """The admission line in front of Stripe (``couchpay serve``); None: straight to Stripe."""
    clock: Callable[[], float] = time.monotonic
    """For waiting times (the line's)."""
    failpoint: str | None = None
    """Test-only: see service/failpoints.py."""
    duplicate_wait_seconds: float = 20.0
    """With no line (Lambda): how long a copy of an open purchase waits for its outcome (never
    past the invocation's time budget). With a line, copies never wait: they are told."""
    sleep: Callable[[float], None] = time.sleep
    shared_line: SharedLine | None = None
    """On AWS: the line every Lambda instance shares (``shared_sending``); None elsewhere."""
    caller_email: str | None = None
    """The signed-in user's email, from their token's ``email`` claim (when it has one): set on a
    per-connection copy (``for_caller``), used as the PaymentIntent's ``receipt_email``."""

    def for_caller(self, email: str | None) -> Services:
        """These services for one signed-in connection (a shallow copy; the ports are shared)."""
        return self if email == self.caller_email else replace(self, caller_email=email)
