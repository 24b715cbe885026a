"""The shared line on Lambda (README, "Showtime"): built when ``COUCHPAY_LINE_QUEUE`` names the
worker's queue. The pacing item lives in the DynamoDB ``guards`` table (``DynamoDbPacer``), the
worker's queue is SQS (``SqsHandoff``); rate and longest wait are ``couchpay serve``'s settings
(``COUCHPAY_STRIPE_RATE``, ``COUCHPAY_LINE_MAX_WAIT_SECONDS``), shared by every instance."""

from __future__ import annotations

import os

from couchpay.config import Config, ConfigError
from couchpay.ports.store import Store
from couchpay.service.pacing import PaceSettings
from couchpay.service.shared_line import SharedLine, SharedLineSettings


def shared_line(config: Config, store: Store) -> SharedLine | None:
    if not config.line_queue:
        return None
    from couchpay.adapters.dynamodb_pacer import DynamoDbPacer
    from couchpay.adapters.dynamodb_store import DynamoDbStore
    from couchpay.adapters.sqs_handoff import SqsHandoff

    if not isinstance(store, DynamoDbStore):
        raise ConfigError("the shared line needs COUCHPAY_DB=dynamodb://TABLE_PREFIX")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    return SharedLine(
        DynamoDbPacer(store),
        SqsHandoff(config.line_queue, region),
        SharedLineSettings(
            pace=PaceSettings(rate=config.line_rate, max_wait_seconds=config.line_max_wait_seconds),
            wait_here_seconds=config.line_wait_here_seconds,
        ),
    )
