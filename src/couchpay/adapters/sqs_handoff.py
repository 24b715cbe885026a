"""The Handoff port on SQS: the shared line's worker queue (aws/serverless.yml, ``LineQueue``).

A handed-off purchase is one message ``{"transactionId", "slotAt"}`` (no personal data, no
amounts: the worker reads the record) with ``DelaySeconds`` (0-900): SQS hides it until then,
and the ``lineWorker`` Lambda (``entrypoints.aws_lambda.line_worker``) receives it, at least
once. The queue is found by name (``COUCHPAY_LINE_QUEUE``, one ``GetQueueUrl`` per Lambda
container). SQS and botocore errors become ``HandoffFailed`` here, at one boundary.
``AWS_ENDPOINT_URL_SQS`` points boto3 at another SQS (the offline stack's moto)."""

from __future__ import annotations

import json
import threading
from typing import Any

from couchpay.ports.handoff import MAX_DELAY_SECONDS, Handoff, HandoffFailed


def message_body(transaction_id: str, slot_at: float) -> str:
    return json.dumps({"transactionId": transaction_id, "slotAt": slot_at})


def parse_body(body: str) -> tuple[str, float]:
    """``(transaction_id, slot_at)`` from a message this adapter sent; ValueError otherwise."""
    try:
        data = json.loads(body)
        transaction_id, slot_at = data["transactionId"], float(data["slotAt"])
    except (TypeError, KeyError, ValueError) as exc:
        raise ValueError("not a shared-line message") from exc
    if not isinstance(transaction_id, str) or not transaction_id:
        raise ValueError("not a shared-line message")
    return transaction_id, slot_at


class SqsHandoff(Handoff):
    def __init__(self, queue_name: str, region: str | None = None) -> None:
        self.queue_name = queue_name
        self.region = region
        self._lock = threading.Lock()
        self._client: Any = None
        self._url: str | None = None

    def _queue(self) -> tuple[Any, str]:
        with self._lock:
            if self._client is None or self._url is None:
                from botocore.config import Config as BotoConfig

                from couchpay.adapters import aws_session

                self._client = aws_session.session().client(
                    "sqs",
                    region_name=self.region,
                    config=BotoConfig(
                        connect_timeout=2,
                        read_timeout=3,
                        retries={"mode": "standard", "max_attempts": 3},
                    ),
                )
                self._url = self._client.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
            return self._client, self._url

    def hand_off(self, transaction_id: str, slot_at: float, delay_seconds: int) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            client, url = self._queue()
            client.send_message(
                QueueUrl=url,
                MessageBody=message_body(transaction_id, slot_at),
                DelaySeconds=max(0, min(MAX_DELAY_SECONDS, delay_seconds)),
            )
        except (BotoCoreError, ClientError) as exc:
            raise HandoffFailed(f"SQS refused the hand-off: {type(exc).__name__}") from exc
