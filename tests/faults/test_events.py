"""The fulfillment event feed end to end: a real `couchpay serve`, a real receiver (aiohttp on
127.0.0.1, verifying every delivery with ``couchpay.client.verify_event``), localstripe.

Every event arrives at least once, in order per subject, signed; a `kill -9` between the state
change and its delivery loses none; a receiver that is down for a while gets everything once it
is back; the operator lists and replays events from the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from couchpay.client import CouchpayClient
from tests.e2e.helpers import cart
from tests.events_receiver import Receiver, eventually
from tests.faults.conftest import Stack
from tests.shipping import ADDRESS
from tests.stripe_browser import create_payment_method


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


def feed_env(receiver: Receiver) -> dict[str, str]:
    return {
        "COUCHPAY_EVENTS_URLS": receiver.url,
        "COUCHPAY_EVENTS_SECRET": receiver.secret,
        "COUCHPAY_EVENTS_EVERY_SECONDS": "0.2",
        "COUCHPAY_EVENTS_RETRY_BASE_SECONDS": "0.2",
        "COUCHPAY_EVENTS_RETRY_MAX_SECONDS": "1",
    }


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")} | stack.env()
    return subprocess.run(
        [sys.executable, "-m", "couchpay.entrypoints.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def metric(stack: Stack, name: str) -> float:
    text = httpx.get(f"{stack.url}/metrics", timeout=10).text
    [value] = [line.split()[-1] for line in text.splitlines() if line.startswith(name + " ")]
    return float(value)


def listed(stack: Stack, *args: str) -> list[dict[str, Any]]:
    done = cli(stack, "events", "list", "--json", *args)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


async def save_card(stack: Stack, client: CouchpayClient) -> str:
    pm = create_payment_method(stack.localstripe.api_base, "4242424242424242")
    reply = await client.call("create-payment-method", {"stripePayment": pm})
    assert reply["action"] == "create-payment-method-resp-success", reply
    return str(reply["message"]["uuid"])


async def buy(client: CouchpayClient, card: str) -> str:
    reply = await client.call(
        "purchase-request",
        {"cardId": card, "items": await cart(client), "shippingAddress": ADDRESS},
        timeout=60,
    )
    assert reply["action"] == "purchase-request-resp-success", reply
    return str(reply["message"]["transactionId"])


async def test_every_event_arrives_signed_in_order_per_subject(
    stack: Stack, receiver: Receiver
) -> None:
    stack.start(**feed_env(receiver))
    client = await stack.client("events-fan")
    card = await save_card(stack, client)
    bought = [await buy(client, card) for _ in range(3)]
    assert cli(stack, "refund", bought[0], "--amount", "500").returncode == 0
    assert cli(stack, "refund", bought[0]).returncode == 0
    deleted = await client.call("delete-credit-card", {"cardId": card})
    assert deleted["action"] == "delete-credit-card-resp-success"
    await client.close()

    await receiver.wait_for(1 + 3 + 2 + 1)
    events = receiver.unique()
    assert receiver.rejected == 0
    kinds = sorted(e["type"] for e in events.values())
    assert kinds == sorted(
        ["card.saved", "card.removed", *["purchase.succeeded"] * 3, *["purchase.refunded"] * 2]
    )
    order = receiver.by_subject()
    assert order[f"purchase:{bought[0]}"] == [1, 2, 3]
    assert order[f"card:{card}"] == [1, 2]
    refunded = [e["data"] for e in events.values() if e["type"] == "purchase.refunded"]
    assert [(d["amountCents"], d["refundedCents"], d["fullyRefunded"]) for d in refunded] == [
        (500, 500, False),
        (18700, 19200, True),
    ]
    paid = next(e for e in events.values() if e["subject"] == f"purchase:{bought[1]}")
    assert paid["data"]["userId"] == "events-fan" and paid["data"]["totalCents"] == 19200
    assert {i["kind"] for i in paid["data"]["items"]} == {"livestream", "meet_and_greet", "merch"}
    assert "4242" not in json.dumps(list(events.values()))  # no card data, not even last four
    assert all(not e["pending"] for e in listed(stack))  # the operator sees them delivered

    # an operator replays one: it arrives again, with the same id (receivers dedupe)
    first = next(iter(events))
    replay = cli(stack, "events", "replay", first)
    assert replay.returncode == 0 and "1 events" in replay.stdout
    before = len(receiver.arrivals)
    await eventually(lambda: len(receiver.arrivals) > before, "the replayed event")
    assert receiver.arrivals[-1]["id"] == first
    assert cli(stack, "events", "replay", "evt_nope").returncode == 1


async def test_kill_9_after_the_change_before_delivery_loses_nothing(
    stack: Stack, receiver: Receiver
) -> None:
    receiver.failing = True  # nothing can be delivered before the kill
    stack.start(**feed_env(receiver))
    client = await stack.client("killed-fan")
    card = await save_card(stack, client)
    bought = [await buy(client, card) for _ in range(2)]
    await client.close()
    pending = listed(stack, "--pending")
    assert {e["subject"] for e in pending} >= {f"purchase:{tx}" for tx in bought}
    assert stack.proc is not None
    stack.proc.send_signal(signal.SIGKILL)
    assert stack.proc.wait(30) == -signal.SIGKILL

    # and once more, killed at the very write (the failpoint right after the settle)
    receiver.failing = False
    stack.start(failpoint="before_reply", **feed_env(receiver))
    client = await stack.client("killed-fan")
    with pytest.raises(ConnectionError):
        await buy(client, card)
    assert stack.proc.wait(30) == -signal.SIGKILL
    last = next(
        e
        for e in listed(stack)
        if e["type"] == "purchase.succeeded"
        and e["subject"] not in {f"purchase:{tx}" for tx in bought}
    )

    stack.start(**feed_env(receiver))
    await receiver.wait_for(1 + 3)
    assert set(receiver.unique()) >= {e["id"] for e in pending} | {last["id"]}
    assert receiver.rejected == 0
    assert all(seqs == sorted(seqs) for seqs in receiver.by_subject().values())


async def test_a_receiver_that_was_down_gets_everything_when_back(
    stack: Stack, receiver: Receiver
) -> None:
    await receiver.stop()  # connection refused: nobody listens on its port
    stack.start(**feed_env(receiver))
    client = await stack.client("patient-fan")
    card = await save_card(stack, client)
    bought = [await buy(client, card) for _ in range(2)]
    assert cli(stack, "refund", bought[0], "--amount", "700").returncode == 0
    await client.close()
    await eventually(  # it has been retrying, with backoff
        lambda: any(e["attempts"] >= 2 for e in listed(stack, "--pending")), "retries"
    )
    waiting = listed(stack, "--pending")
    assert len(waiting) == 4 and all(e["lastError"] for e in waiting if e["attempts"])
    await eventually(  # what an operator's dashboard shows meanwhile
        lambda: metric(stack, "couchpay_pending_events") == 4, "4 pending on /metrics"
    )
    assert metric(stack, "couchpay_oldest_pending_event_seconds") > 0

    await receiver.start()
    await receiver.wait_for(4)
    assert receiver.by_subject()[f"purchase:{bought[0]}"] == [1, 2]
    assert receiver.rejected == 0
    await eventually(lambda: not listed(stack, "--pending"), "all marked delivered")
    await eventually(lambda: metric(stack, "couchpay_pending_events") == 0, "the gauge at 0")
