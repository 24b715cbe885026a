"""The event feed on the serverless.yml stack itself (serverless-offline): a fan saves a card and
pays over the stack's WebSocket; the events those Lambdas wrote are delivered, signed and in
order, to a real receiver by the ``deliverEvents`` function invoked as its schedule invokes it
(through serverless-offline's Lambda API: the offline stack has no DynamoDB streams and no
schedules), its signing secret read from SSM as on AWS. A receiver that is down gets everything
from a later pass."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from couchpay.client import CouchpayClient
from couchpay.offline_stripe.process import LocalStripe
from tests.aws.identity import TestUserPool
from tests.aws.requirements import need
from tests.aws.servers import Moto
from tests.aws.stack import STAGE, SlsStack, unavailable_reason
from tests.e2e.helpers import VISA
from tests.events_receiver import Receiver
from tests.shipping import ADDRESS
from tests.stripe_browser import create_payment_method


class FeedStack(SlsStack):
    """The stack with the feed configured: ``eventsUrls`` and the secret's SSM parameter."""

    def __init__(self, receiver: Receiver, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.receiver = receiver
        self.secret_names["eventsSecretParameter"] = (
            f"/couchpay/{STAGE}/{secrets.token_hex(4)}/events-signing-secret"
        )

    def params(self) -> dict[str, str]:
        return {**super().params(), "eventsUrls": self.receiver.url}

    def _put_secrets(self) -> Moto:
        ssm = super()._put_secrets()
        ssm.put_secure_string(self.secret_names["eventsSecretParameter"], self.receiver.secret)
        return ssm

    async def scheduled_pass(self) -> dict[str, Any]:
        """What the every-minute schedule does: invoke deliverEvents with a scheduled event."""
        url = (
            f"http://127.0.0.1:{self.lambda_port}/2015-03-31/functions/"
            f"couchpay-{STAGE}-deliverEvents/invocations"
        )
        event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        async with httpx.AsyncClient(timeout=120) as client:
            answer = await client.post(url, json=event)
        assert answer.status_code == 200, answer.text
        return dict(json.loads(answer.content))


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


async def test_the_scheduled_pass_delivers_what_the_stack_wrote(
    tmp_path: Path,
    moto: Moto,
    localstripe: LocalStripe,
    pool: TestUserPool,
    receiver: Receiver,
) -> None:
    need(unavailable_reason(), "the serverless stack")
    with FeedStack(receiver, tmp_path, moto, localstripe, pool) as stack:
        user = f"fan-{uuid.uuid4()}"
        async with await CouchpayClient.connect(stack.ws_url, pool.token(user)) as c:
            pm = create_payment_method(localstripe.api_base, VISA)
            saved = await c.call("create-payment-method", {"stripePayment": pm})
            assert saved["action"] == "create-payment-method-resp-success", saved
            items = (await c.call("get-items"))["message"]["items"]
            cart = [{"item_id": i["itemId"], "price_cents": i["priceCents"]} for i in items]
            paid = await c.call(
                "purchase-request",
                {"cardId": saved["message"]["uuid"], "items": cart, "shippingAddress": ADDRESS},
            )
            assert paid["action"] == "purchase-request-resp-success", paid

        await receiver.stop()  # down: the first pass cannot deliver, and loses nothing
        first = await stack.scheduled_pass()
        assert first["delivered"] == 0 and first["failed"] >= 1
        await receiver.start()

        # later passes (the backoff's first wait is 5 s: the schedule's minute covers it)
        subjects = {
            f"purchase:{paid['message']['transactionId']}",
            f"card:{saved['message']['uuid']}",
        }
        while not subjects <= set(receiver.by_subject()):
            await stack.scheduled_pass()
        assert receiver.rejected == 0
        mine = {e["type"]: e for e in receiver.unique().values() if e["data"]["userId"] == user}
        assert set(mine) == {"card.saved", "purchase.succeeded"}
        assert mine["purchase.succeeded"]["data"]["totalCents"] == 19200
        assert mine["card.saved"]["data"]["cardId"] == saved["message"]["uuid"]
