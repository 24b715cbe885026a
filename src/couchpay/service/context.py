"""What every handler gets: the ports, the clock and the pricing settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction

from couchpay.domain.pricing import DEFAULT_STREAMING_RATE
from couchpay.ports.gateway import PaymentGateway
from couchpay.ports.notifier import Notifier, NullNotifier
from couchpay.ports.store import Store

DUPLICATE_WAIT_SECONDS = 20.0
"""How long a duplicate purchase request waits for the first one to settle, by default."""


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
    duplicate_wait_seconds: float = DUPLICATE_WAIT_SECONDS
    sleep: Callable[[float], None] = time.sleep
    failpoint: str | None = None
    """Test-only: see service/failpoints.py."""
