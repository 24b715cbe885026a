"""What makes the offline Stripe behave like real Stripe under load: the settings, the rolling
rate-limit windows, the latency draw and the counters (used by ``realism``, the HTTP proxy).

Stripe's documented limits (docs.stripe.com/rate-limits): about 100 API requests a second per
account in live mode and 25 in test mode (sandboxes), and by default 25 a second on any one
endpoint, where an endpoint is a named API operation (``POST /v1/payment_intents`` and
``GET /v1/payment_intents/{id}`` are two endpoints; every id shares one). Beyond them Stripe
answers HTTP 429 with ``code: "rate_limit"``.

Invariants:

* A request is admitted only when both its account window and its endpoint window hold fewer
  than their limits over the last ``window_seconds`` (a rolling window: timestamps, not
  buckets). Only admitted requests enter the windows, so a client that keeps retrying still gets
  the full rate, never more.
* Latency is drawn uniformly from the endpoint's range with one seeded ``random.Random``: the
  same seed and the same order of requests give the same delays.
* The counters only grow until ``reset()``; ``snapshot()`` is plain JSON.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict, deque
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

Mode = Literal["test", "live"]
ACCOUNT_LIMIT: dict[str, int] = {"test": 25, "live": 100}
ENDPOINT_LIMIT = 25
RATE_LIMIT_MESSAGE = (
    "Too many requests hit the API too quickly. We recommend an exponential backoff of your "
    "requests."
)
# Stripe ids in a path (pi_..., cus_..., pm_..., seti_..., ch_..., re_...): one endpoint for all
_ID = re.compile(r"/(?:pi|cus|pm|seti|ch|re|evt|src|card|tok|in|sub|price|prod)_[A-Za-z0-9_]+")
# the calls that take Stripe ~0.4-1 s: a PaymentIntent created (and confirmed), or confirmed
SLOW = frozenset({"POST /v1/payment_intents", "POST /v1/payment_intents/{id}/confirm"})


def endpoint_of(method: str, path: str) -> str:
    """``POST /v1/payment_intents/pi_1/confirm?x=1`` -> ``POST .../{id}/confirm``."""
    return f"{method.upper()} {_ID.sub('/{id}', path.split('?', 1)[0]).rstrip('/')}"


def is_stripe_api(path: str) -> bool:
    """Only the Stripe API is limited and slowed; localstripe's ``/_config`` is not."""
    return path.startswith("/v1/")


@dataclass(frozen=True)
class RealismSettings:
    """Everything configurable. ``enabled=False`` forwards at once with no limit (set-up)."""

    mode: Mode = "test"
    account_limit: int | None = None  # None: Stripe's for the mode (25 test, 100 live)
    endpoint_limit: int = ENDPOINT_LIMIT
    window_seconds: float = 1.0
    slow_latency: tuple[float, float] = (0.4, 0.8)  # PaymentIntent create / confirm
    fast_latency: tuple[float, float] = (0.1, 0.25)  # every other API call
    seed: int | None = None
    enabled: bool = True

    @property
    def account_rate(self) -> int:
        return self.account_limit if self.account_limit is not None else ACCOUNT_LIMIT[self.mode]

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "account_rate": self.account_rate}

    def updated(self, changes: dict[str, Any]) -> RealismSettings:
        """A copy with ``changes`` (JSON: lists for the latency ranges); unknown names refused."""
        known = set(asdict(self))
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        typed: dict[str, Any] = {}
        for name, value in changes.items():
            if name.endswith("_latency"):
                low, high = (float(x) for x in value)
                typed[name] = (low, high)
            elif name in ("endpoint_limit", "account_limit", "seed"):
                typed[name] = None if value is None and name != "endpoint_limit" else int(value)
            elif name == "window_seconds":
                typed[name] = float(value)
            elif name == "enabled":
                typed[name] = bool(value)
            else:
                typed[name] = value
        settings = replace(self, **typed)
        settings.check()
        return settings

    def check(self) -> None:
        if self.mode not in ACCOUNT_LIMIT:
            raise ValueError(f"mode must be test or live, not {self.mode!r}")
        if self.account_rate < 1 or self.endpoint_limit < 1 or self.window_seconds <= 0:
            raise ValueError("limits and the window must be positive")
        for low, high in (self.slow_latency, self.fast_latency):
            if not 0 <= low <= high:
                raise ValueError("a latency range is (low, high) with 0 <= low <= high")


class RollingWindows:
    """Admission by rolling windows, one for the account and one per endpoint."""

    def __init__(self) -> None:
        self._account: deque[float] = deque()
        self._endpoints: dict[str, deque[float]] = defaultdict(deque)

    def admit(self, endpoint: str, now: float, settings: RealismSettings) -> str | None:
        """Record and admit the request (None), or say which limit refuses it."""
        horizon = now - settings.window_seconds
        mine = self._endpoints[endpoint]
        for window in (self._account, mine):
            while window and window[0] <= horizon:
                window.popleft()
        if len(self._account) >= settings.account_rate:
            return "account"
        if len(mine) >= settings.endpoint_limit:
            return "endpoint"
        self._account.append(now)
        mine.append(now)
        return None


class Latency:
    """Uniform random delays, seedable."""

    def __init__(self, seed: int | None) -> None:
        self._random = random.Random(seed)

    def draw(self, endpoint: str, settings: RealismSettings) -> float:
        low, high = settings.slow_latency if endpoint in SLOW else settings.fast_latency
        return self._random.uniform(low, high)


@dataclass
class Stats:
    """What the stand-in saw. ``intents_by_key``: the PaymentIntent ids created (2xx answers to
    ``POST /v1/payment_intents``) per Idempotency-Key; ``intents_by_transaction``: the same per
    ``metadata[transaction_id]``. More than one id under either is a double charge.
    ``intent_requests_by_transaction``: every ``POST /v1/payment_intents`` per transaction,
    refused ones included (which purchases reached Stripe at all)."""

    calls: int = 0
    rate_limited: int = 0
    forwarded: int = 0
    upstream_errors: int = 0
    by_endpoint: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    refused_by: Counter[str] = field(default_factory=Counter)
    intents_by_key: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    intents_by_transaction: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    intent_requests_by_transaction: Counter[str] = field(default_factory=Counter)
    first_call: float | None = None
    last_call: float | None = None

    def seen(self, endpoint: str, now: float) -> None:
        self.calls += 1
        self.by_endpoint[endpoint]["calls"] += 1
        self.first_call = now if self.first_call is None else self.first_call
        self.last_call = now

    def refused(self, endpoint: str, limit: str) -> None:
        self.rate_limited += 1
        self.refused_by[limit] += 1
        self.by_endpoint[endpoint]["rate_limited"] += 1

    def answered(self, endpoint: str, status: int) -> None:
        self.forwarded += 1
        self.by_endpoint[endpoint][f"status_{status}"] += 1

    def intent_request(self, transaction: str | None) -> None:
        self.intent_requests_by_transaction[transaction or "(none)"] += 1

    def intent(self, key: str | None, transaction: str | None, intent_id: str) -> None:
        self.intents_by_key[key or "(no key)"].add(intent_id)
        if transaction:
            self.intents_by_transaction[transaction].add(intent_id)

    def snapshot(self) -> dict[str, Any]:
        doubled_keys = {k: sorted(v) for k, v in self.intents_by_key.items() if len(v) > 1}
        doubled_tx = {k: sorted(v) for k, v in self.intents_by_transaction.items() if len(v) > 1}
        return {
            "calls": self.calls,
            "rate_limited": self.rate_limited,
            "forwarded": self.forwarded,
            "upstream_errors": self.upstream_errors,
            "refused_by": dict(self.refused_by),
            "by_endpoint": {k: dict(v) for k, v in sorted(self.by_endpoint.items())},
            "payment_intents_created": len(set().union(*self.intents_by_key.values()))
            if self.intents_by_key
            else 0,
            "idempotency_keys": len(self.intents_by_key),
            "keys_with_several_intents": doubled_keys,
            "transactions_with_several_intents": doubled_tx,
            "intents_by_transaction": {
                k: sorted(v) for k, v in self.intents_by_transaction.items()
            },
            "intent_requests_by_transaction": dict(self.intent_requests_by_transaction),
            "first_call": self.first_call,
            "last_call": self.last_call,
        }
