"""Per-user limits: what one signed-in user may take, however many sockets they open.

Three limits, each counted per user (the token's subject), never per socket:
- open sockets: at most ``max_sockets`` at once; one more is refused at the handshake;
- frames: one token bucket per user shared by all their sockets (``rate``/``burst``);
- Stripe-writing actions (``STRIPE_WRITING_ACTIONS``: each creates objects at Stripe and spends
  the account's Stripe rate limit): at most ``stripe_writes_per_minute`` per user per fixed
  one-minute window (``window_of``); more answer ``rate_limited``.
``UserLimits`` keeps the counts in memory for one ``couchpay serve`` process (its event loop is
the only caller, so no locks). On AWS the Stripe-writing count is a DynamoDB item per user and
window instead (``adapters/dynamodb_limits.py``), with the same window."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from couchpay.domain.errors import RateLimited
from couchpay.ratelimit import TokenBucket
from couchpay.wire import protocol
from couchpay.wire.routes import ROUTES

STRIPE_WRITING_ACTIONS = frozenset(
    {"create-setup-intent", "create-payment-method", "purchase-request"}
)
STRIPE_ROUTES = tuple(ROUTES[action] for action in sorted(STRIPE_WRITING_ACTIONS))
WINDOW_SECONDS = 60
MAX_TRACKED_USERS = 10_000
T = TypeVar("T")


def window_of(now: float) -> int:
    """The fixed one-minute window ``now`` (epoch seconds) falls in."""
    return int(now // WINDOW_SECONDS)


def too_many_writes() -> RateLimited:
    return RateLimited(
        "Too many payment actions for this user in the last minute; wait a minute and retry."
    )


def too_many_frames() -> RateLimited:
    return RateLimited("Too many requests for this user; slow down and retry.")


def refuse_stripe_write(
    request: protocol.Request, user_id: str, take: Callable[[str], bool]
) -> dict[str, Any] | None:
    """The ``rate_limited`` reply (with the action's own failure name) when ``request`` writes to
    Stripe and ``take(user_id)`` finds the user's allowance for this minute spent; else None."""
    if request.route not in STRIPE_ROUTES or take(user_id):
        return None
    refusal = protocol.error_message(too_many_writes())
    return protocol.reply(request.route.failure, refusal, request.request_id)


@dataclass
class UserLimits:
    max_sockets: int
    rate: float
    burst: float
    stripe_writes_per_minute: int
    clock: Callable[[], float] = time.time
    _sockets: dict[str, int] = field(default_factory=dict)
    _buckets: dict[str, TokenBucket] = field(default_factory=dict)
    _writes: dict[str, tuple[int, int]] = field(default_factory=dict)  # user -> (window, count)

    def open_socket(self, user_id: str) -> bool:
        """Count one more socket for the user; False (nothing counted) when at the limit."""
        count = self._sockets.get(user_id, 0)
        if count >= self.max_sockets:
            return False
        self._sockets[user_id] = count + 1
        return True

    def close_socket(self, user_id: str) -> None:
        count = self._sockets.get(user_id, 0) - 1
        if count > 0:
            self._sockets[user_id] = count
        else:
            self._sockets.pop(user_id, None)

    def take_frame(self, user_id: str) -> bool:
        bucket = self._buckets.get(user_id)
        if bucket is None:
            self._forget_idle(self._buckets)
            bucket = self._buckets[user_id] = TokenBucket(self.rate, self.burst, self.clock)
        return bucket.take()

    def take_stripe_write(self, user_id: str) -> bool:
        window = window_of(self.clock())
        seen, count = self._writes.get(user_id, (window, 0))
        if seen != window:
            count = 0
        if count >= self.stripe_writes_per_minute:
            return False
        if user_id not in self._writes:
            self._forget_idle(self._writes)
        self._writes[user_id] = (window, count + 1)
        return True

    def _forget_idle(self, table: dict[str, T]) -> None:
        """Bound memory: past MAX_TRACKED_USERS entries, drop users with no open socket."""
        if len(table) >= MAX_TRACKED_USERS:
            for user_id in [u for u in table if u not in self._sockets]:
                del table[user_id]
