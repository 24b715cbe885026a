"""The shared line's AWS parts on moto: the SQS hand-off (a message the worker can read, delayed
as asked; a queue that does not exist is ``HandoffFailed``, never an unhandled error) and the
``lineWorker`` handler (a message that is not ours is dropped, one for a purchase with nothing
to send is done; neither comes back)."""

from __future__ import annotations

import pytest

from couchpay.adapters.sqs_handoff import SqsHandoff, message_body, parse_body
from couchpay.entrypoints.aws_lambda import line_worker
from couchpay.ports.handoff import HandoffFailed
from tests.aws.servers import REGION, Moto


@pytest.fixture
def queue(moto: Moto, lambda_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"{lambda_env}-line"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto.endpoint)
    monkeypatch.setenv("COUCHPAY_LINE_QUEUE", name)
    import boto3

    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=moto.endpoint)
    return str(sqs.create_queue(QueueName=name)["QueueUrl"])


def test_a_hand_off_is_a_delayed_message_the_worker_reads(queue: str, moto: Moto) -> None:
    import boto3

    SqsHandoff(queue.rsplit("/", 1)[1], REGION).hand_off("tx-1", 1_764_480_000.25, 0)
    SqsHandoff(queue.rsplit("/", 1)[1], REGION).hand_off("tx-2", 1_764_480_001.0, 30)
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=moto.endpoint)
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    assert [parse_body(m["Body"]) for m in got] == [("tx-1", 1_764_480_000.25)]  # tx-2 waits
    with pytest.raises(ValueError, match="not a shared-line message"):
        parse_body('{"transactionId": 5}')


def test_a_queue_that_is_not_there_is_handoff_failed(queue: str) -> None:
    with pytest.raises(HandoffFailed):
        SqsHandoff("no-such-queue", REGION).hand_off("tx-1", 0.0, 0)


def test_the_worker_drops_what_is_not_ours_and_leaves_what_has_nothing_to_send(
    queue: str,
) -> None:
    event = {
        "Records": [
            {"messageId": "m-1", "body": "not json"},
            {"messageId": "m-2", "body": message_body("no-such-purchase", 1_764_480_000.0)},
        ]
    }
    assert line_worker.handler(event, None) == {"batchItemFailures": []}
    assert line_worker.handler({}, None) == {"batchItemFailures": []}  # a warm-up
