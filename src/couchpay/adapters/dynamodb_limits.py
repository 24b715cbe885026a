"""Per-user limits on AWS, where every frame may reach a different Lambda instance: the count of
a user's Stripe-writing actions in the current one-minute window (``limits.window_of``) is one
item of the ``guards`` table, ``rate#stripe-writes#<user>#<window>``, raised by a conditional
update (``ADD n 1`` only while ``n < limit``) so concurrent Lambdas never let more through than
the limit; the item carries a TTL an hour after its window, so DynamoDB removes it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from couchpay.adapters import dynamodb_rows as rows
from couchpay.adapters import dynamodb_tables as tables
from couchpay.limits import WINDOW_SECONDS, window_of

if TYPE_CHECKING:
    from couchpay.adapters.dynamodb_store import DynamoDbStore

KEEP_SECONDS = 3600


def stripe_write_taker(
    store: DynamoDbStore, per_minute: int, clock: Callable[[], float] = time.time
) -> Callable[[str], bool]:
    """``take(user_id)``: True (and counted) while the user is under ``per_minute`` this window."""

    def take(user_id: str) -> bool:
        window = window_of(clock())
        done = store._conditional(
            "update_item",
            TableName=store.name(tables.GUARDS),
            Key=rows.wire({"guard": f"rate#stripe-writes#{user_id}#{window}"}),
            UpdateExpression="SET expires_at = :expires ADD n :one",
            ConditionExpression="attribute_not_exists(n) OR n < :limit",
            ExpressionAttributeValues=rows.wire(
                {
                    ":one": 1,
                    ":limit": per_minute,
                    ":expires": (window + 1) * WINDOW_SECONDS + KEEP_SECONDS,
                }
            ),
        )
        return done is not None

    return take
