"""Scheduled Lambda jobs (wired to a schedule in serverless.yml).

``expire_cards`` is ``couchpay cards expire`` on AWS: once a day it marks live cards past their
expiry month ``expired``. Idempotent, so a retried or doubled invocation changes nothing more.
``settle_purchases`` is ``couchpay serve``'s settlement pass on AWS, every minute: no purchase is
left without an owner (pending ones settled from Stripe, abandoned 3-D Secure canceled, ones a
dead Lambda claimed but never sent failed ``not_charged``), and the fans' open sockets are told;
it also reports the open purchases and the oldest one's age (CloudWatch, Embedded Metric
Format: the ``OldestPendingSeconds`` alarm watches it). Idempotent as well.
``deliver_events`` delivers the fulfillment events (``service.event_delivery``): invoked by the
events table's stream with the subjects it changed, and every minute by a schedule for retries
and anything a stream batch missed. Its signing secret comes from SSM.
Services are built on the first invocation (never at import) and kept for warm invocations."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from couchpay.service.context import Services

if TYPE_CHECKING:
    from couchpay.service.event_delivery import Feed

log = logging.getLogger(__name__)
_services: Services | None = None
_feed: list[Feed | None] = []


def _get_services() -> Services:
    global _services  # noqa: PLW0603 - one per Lambda container, built lazily
    if _services is None:
        from couchpay.bootstrap import open_for_operator
        from couchpay.config import Config

        _services = open_for_operator(Config.from_env(), needs_stripe=False)
    return _services


def expire_cards(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    """The daily card expiry job. Returns its summary (checked, expired, stillLive, month)."""
    from couchpay.service.card_lifecycle import expire_cards as run

    summary = run(_get_services())
    log.info("%s", summary.line())
    return summary.as_dict()


def settle_purchases(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    """The settlement pass (``service.showtime.settle_open``) with the Lambda runtime's services:
    DynamoDB, Stripe (key from SSM) and pushes through the Management API."""
    from couchpay.adapters.emf_metrics import EmfMetrics
    from couchpay.bootstrap import settle_times
    from couchpay.entrypoints.aws_lambda import _runtime
    from couchpay.service import showtime

    runtime = _runtime.runtime()
    metrics = EmfMetrics()
    services = replace(runtime.services, metrics=metrics)
    summary = showtime.settle_open(services, settle_times(runtime.config))
    metrics.flush()
    log.info("settlement: %s", summary.line())
    return {
        "examined": summary.examined,
        "settled": dict(summary.settled),
        "unchanged": summary.unchanged,
        "unreachable": summary.unreachable,
    }


def _get_feed() -> Feed | None:
    if not _feed:
        import os

        from couchpay.bootstrap import build_store
        from couchpay.config import Config
        from couchpay.entrypoints.aws_lambda._secrets import resolve
        from couchpay.entrypoints.event_runner import build_feed

        config = Config.from_env(resolve(dict(os.environ)))
        _feed.append(build_feed(config, build_store(config)))
    return _feed[0]


def stream_subjects(event: dict[str, Any]) -> list[str]:
    """The subjects a DynamoDB Streams batch of the events table names, in stream order."""
    found = []
    for record in event.get("Records") or []:
        subject = (record.get("dynamodb") or {}).get("Keys", {}).get("subject", {}).get("S")
        if subject:
            found.append(str(subject))
    return list(dict.fromkeys(found))


def deliver_events(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    """A stream batch (its subjects, in order) or the scheduled pass (the oldest pending). A
    receiver's failure is recorded with its backoff, never raised: the stream moves on, and the
    schedule retries."""
    from couchpay.adapters.emf_metrics import EmfMetrics
    from couchpay.service.event_delivery import deliver_pending, deliver_subjects, pending_figures

    feed = _get_feed()
    if feed is None:
        log.warning("no COUCHPAY_EVENTS_URLS: events wait in the outbox")
        return {"delivered": 0, "failed": 0, "waiting": 0}
    subjects = stream_subjects(event or {})
    summary = deliver_subjects(feed, subjects) if subjects else deliver_pending(feed)
    log.info("events: %s", summary.line())
    if not subjects:  # the schedule, every minute: what the OldestPendingEvent alarm watches
        metrics = EmfMetrics()
        metrics.pending_events(*pending_figures(feed))
        metrics.flush()
    return {
        "delivered": summary.delivered,
        "failed": summary.failed,
        "waiting": len(summary.blocked_subjects),
    }
