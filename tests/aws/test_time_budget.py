"""A Stripe that hangs (a TCP server on 127.0.0.1 that accepts and never answers): the $default
handler still answers the fan itself, with `payment_processing`, while the Lambda has time left,
and the purchase stays `pending` (settled later). Deadlines are read from the Lambda context's
remaining time, as AWS gives it, never from the wall clock of the test."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from couchpay.adapters.aws_connections import AwsConnections
from couchpay.domain.cards import Card
from couchpay.domain.statuses import PurchaseStatus
from couchpay.entrypoints.aws_lambda import _runtime, default
from tests.aws.test_handlers import FakeManagement, message_event, signed_in


class FakeContext:
    """Lambda's context object: ``get_remaining_time_in_millis`` counts down to the deadline."""

    def __init__(self, millis: int) -> None:
        self.deadline = time.monotonic() + millis / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class HangingStripe:
    """Accepts every connection and never answers (nor closes) until stopped."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.accepted: list[socket.socket] = []
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.server.close()
        for conn in self.accepted:
            conn.close()


class TimedManagement(FakeManagement):
    """Records the Lambda's remaining time when each reply is posted."""

    def __init__(self, context: FakeContext) -> None:
        super().__init__()
        self.context = context
        self.remaining_at_post: list[int] = []

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        self.remaining_at_post.append(self.context.get_remaining_time_in_millis())
        return super().post_to_connection(ConnectionId, Data)


@pytest.fixture
def hanging_stripe(lambda_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[HangingStripe]:
    stripe = HangingStripe()
    monkeypatch.setenv("STRIPE_API_BASE", stripe.url)
    _runtime.reset()
    yield stripe
    stripe.close()


def saved_card(user_id: str) -> str:
    """A wallet card saved earlier (when Stripe answered), straight into the store."""
    store = _runtime.runtime().services.store
    now = datetime.now(UTC)
    store.ensure_user(user_id, now)
    store.set_stripe_customer(user_id, "cus_saved_earlier")
    card = Card(
        card_id=str(uuid.uuid4()),
        user_id=user_id,
        stripe_customer_id="cus_saved_earlier",
        card_token="pm_saved_earlier",
        fingerprint="fp_saved_earlier",
        brand="visa",
        last_four="4242",
        exp_month=12,
        exp_year=now.year + 3,
        name_on_card=None,
        created_at=now,
        updated_at=now,
    )
    store.add_card(card)
    return card.card_id


@pytest.mark.timeout(60)
def test_a_hanging_stripe_gets_the_fan_our_payment_processing_reply_in_time(
    hanging_stripe: HangingStripe, pool: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = FakeContext(millis=6_000)  # budget: 6 s less the 3 s reply margin
    api = TimedManagement(context)
    monkeypatch.setattr(AwsConnections, "management", lambda self, endpoint: api)
    signed_in(pool, "fan-hang", "c-hang")
    card_id = saved_card("fan-hang")
    item = _runtime.runtime().services.store.list_items()[0]
    frame = json.dumps(
        {
            "action": "purchase-request",
            "requestId": "r-hang",
            "message": {
                "cardId": card_id,
                "items": [{"item_id": item.item_id, "price_cents": item.price_cents}],
            },
        }
    )
    assert default.handler(message_event("c-hang", frame), context) == {"statusCode": 200}
    [(to, reply)] = api.sent
    assert to == "c-hang"
    assert reply["action"] == "purchase-request-resp-failure"
    assert reply["requestId"] == "r-hang"
    assert (reply["message"]["code"], reply["message"]["status"]) == (
        "payment_processing",
        "pending",
    )
    assert hanging_stripe.accepted  # Stripe was called, and never answered
    # Replied while the Lambda still had time: at least most of the margin kept for it.
    [remaining] = api.remaining_at_post
    assert remaining >= _runtime.REPLY_MARGIN_SECONDS * 1000 / 2
    stored = _runtime.runtime().services.store.get_purchase(reply["message"]["transactionId"])
    assert stored is not None and stored.status is PurchaseStatus.PENDING


def test_with_no_time_left_stripe_is_not_called_and_the_fan_still_hears_back(
    hanging_stripe: HangingStripe, pool: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = FakeContext(millis=3_000)  # no more than the reply margin: no time for Stripe
    api = TimedManagement(context)
    monkeypatch.setattr(AwsConnections, "management", lambda self, endpoint: api)
    signed_in(pool, "fan-late", "c-late")
    card_id = saved_card("fan-late")
    item = _runtime.runtime().services.store.list_items()[0]
    frame = json.dumps(
        {
            "action": "purchase-request",
            "requestId": "r-late",
            "message": {
                "cardId": card_id,
                "items": [{"item_id": item.item_id, "price_cents": item.price_cents}],
            },
        }
    )
    assert default.handler(message_event("c-late", frame), context) == {"statusCode": 200}
    [(_, reply)] = api.sent
    assert (reply["message"]["code"], reply["message"]["status"]) == (
        "payment_processing",
        "pending",
    )
    assert hanging_stripe.accepted == []
    assert api.remaining_at_post[0] > 0
