"""A token bucket per connection: ``rate`` frames a second on average, bursts up to ``burst``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _at: float = field(init=False)

    def __post_init__(self) -> None:
        self._tokens, self._at = self.burst, self.clock()

    def take(self) -> bool:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


def parse_limit(text: str) -> tuple[float, float]:
    """'20/40' -> 20 a second, bursts of 40."""
    rate, _, burst = text.partition("/")
    values = float(rate), float(burst or rate)
    if min(values) <= 0:
        raise ValueError(f"COUCHPAY_RATE_LIMIT must be RATE/BURST, both positive: {text!r}")
    return values
