"""Fulfillment events on AWS (``aws_jobs.deliver_events``), called as Lambda calls it, on moto's
DynamoDB and SSM (the signing secret a SecureString there, as on AWS) and a real receiver on
127.0.0.1. A fan saves a card and pays through the ``$default`` handler; the events it wrote in
the same transactions reach the receiver from a stream batch (the shape DynamoDB Streams hands
the function) and, when the receiver was down, from the scheduled pass once it is back. The
offline stack has no streams: the schedule is what it can run."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from couchpay.entrypoints import aws_jobs
from couchpay.entrypoints.aws_lambda import _runtime, default
from couchpay.offline_stripe.process import LocalStripe
from tests.aws.identity import TestUserPool
from tests.aws.servers import Moto
from tests.aws.test_handlers import FakeManagement, api, message_event, signed_in  # noqa: F401
from tests.events_receiver import Receiver
from tests.shipping import ADDRESS
from tests.stripe_browser import create_payment_method


@pytest.fixture
async def receiver() -> Any:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
def feed_env(
    lambda_env: str, moto: Moto, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """``deliverEvents``' own environment (serverless.yml gives the feed's settings to it
    alone): the signing secret's parameter in SSM, the receiver's URL."""
    moto.put_secure_string(f"/couchpay/{lambda_env}/events-signing-secret", receiver.secret)
    monkeypatch.delenv("COUCHPAY_EVENTS_SECRET", raising=False)
    monkeypatch.delenv("COUCHPAY_EVENTS_URLS", raising=False)
    aws_jobs._feed.clear()

    def as_deliver_events() -> None:
        monkeypatch.setenv("COUCHPAY_EVENTS_URLS", receiver.url)
        monkeypatch.setenv(
            "COUCHPAY_EVENTS_SECRET_PARAMETER", f"/couchpay/{lambda_env}/events-signing-secret"
        )
        monkeypatch.setenv("COUCHPAY_EVENTS_RETRY_BASE_SECONDS", "0.01")

    yield as_deliver_events
    aws_jobs._feed.clear()


def send(connection: str, action: str, message: dict[str, Any], rid: str) -> None:
    frame = json.dumps({"action": action, "message": message, "requestId": rid})
    assert default.handler(message_event(connection, frame), None) == {"statusCode": 200}


def pay(pool: TestUserPool, api: FakeManagement, localstripe_base: str) -> tuple[str, str]:  # noqa: F811
    """A card saved and a purchase paid through ``$default``: (card id, transaction id)."""
    signed_in(pool, "fan-events", "c-events")
    pm = create_payment_method(localstripe_base, "4242424242424242")
    send("c-events", "create-payment-method", {"stripePayment": pm}, "r-card")
    card = next(r for _, r in api.sent if r["requestId"] == "r-card")["message"]["uuid"]
    send("c-events", "get-items", {}, "r-items")
    items = next(r for _, r in api.sent if r["requestId"] == "r-items")["message"]["items"]
    cart = [{"item_id": i["itemId"], "price_cents": i["priceCents"]} for i in items]
    send(
        "c-events",
        "purchase-request",
        {"cardId": card, "items": cart, "shippingAddress": ADDRESS},
        "r-buy",
    )
    paid = next(r for _, r in api.sent if r["requestId"] == "r-buy")
    assert paid["action"] == "purchase-request-resp-success", paid
    return card, paid["message"]["transactionId"]


def stream_batch(subjects: list[str]) -> dict[str, Any]:
    """What Lambda hands the function for new items of the events table (keys shown)."""
    return {
        "Records": [
            {
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": {"subject": {"S": s}, "sequence_key": {"S": "0000000001"}},
                    "StreamViewType": "NEW_IMAGE",
                },
            }
            for s in subjects
        ]
    }


async def test_a_stream_batch_delivers_what_the_handlers_wrote(
    feed_env: Any,
    api: FakeManagement,  # noqa: F811
    pool: TestUserPool,
    localstripe: LocalStripe,
    receiver: Receiver,
) -> None:
    card, tx = await asyncio.to_thread(pay, pool, api, localstripe.api_base)
    feed_env()
    subjects = [f"card:{card}", f"purchase:{tx}"]
    done = await asyncio.to_thread(aws_jobs.deliver_events, stream_batch(subjects), None)
    assert done == {"delivered": 2, "failed": 0, "waiting": 0}
    assert sorted(e["type"] for e in receiver.unique().values()) == [
        "card.saved",
        "purchase.succeeded",
    ]
    assert receiver.rejected == 0
    paid = next(e for e in receiver.arrivals if e["type"] == "purchase.succeeded")
    assert paid["data"]["transactionId"] == tx and paid["data"]["totalCents"] == 19200
    again = await asyncio.to_thread(aws_jobs.deliver_events, {}, None)  # the schedule
    assert again["delivered"] == 0  # nothing pending any more


async def test_the_schedule_retries_until_the_receiver_is_back(
    feed_env: Any,
    api: FakeManagement,  # noqa: F811
    pool: TestUserPool,
    localstripe: LocalStripe,
    receiver: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    receiver.failing = True
    _, tx = await asyncio.to_thread(pay, pool, api, localstripe.api_base)
    feed_env()
    first = await asyncio.to_thread(aws_jobs.deliver_events, {}, None)
    assert first["failed"] >= 1 and first["delivered"] == 0
    store = _runtime.runtime().services.store
    [event] = store.outbox_subject(f"purchase:{tx}")
    assert event.pending and event.attempts == 1 and event.last_error == "HTTP 503"
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    figures = {k: v if isinstance(v, list) else [v] for line in emf for k, v in line.items()}
    assert max(figures["PendingEvents"]) >= 2  # EMF gives a list when a name has many values
    assert min(figures["OldestPendingEventSeconds"]) >= 0
    names = {
        m["Name"] for line in emf for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]
    }
    assert "OldestPendingEventSeconds" in names  # what the alarm watches

    receiver.failing = False
    while store.outbox_pending(10):  # the next scheduled passes, after the (short) backoff
        await asyncio.to_thread(aws_jobs.deliver_events, {}, None)
        await asyncio.sleep(0.05)
    assert receiver.by_subject()[f"purchase:{tx}"] == [1]
    assert sorted(e["type"] for e in receiver.unique().values()) == [
        "card.saved",
        "purchase.succeeded",
    ]
