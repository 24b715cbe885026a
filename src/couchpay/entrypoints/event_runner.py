"""The event feed's composition and ``couchpay serve``'s delivery loop.

``build_feed``: the deliverer for a configuration (None when no endpoint is configured: events
are still written, and wait in the outbox until one is). Endpoints without a signing secret are
refused by ``Config``: nothing is ever sent unsigned. ``run``: every
``COUCHPAY_EVENTS_EVERY_SECONDS``, one delivery pass on a thread of its own (one at a time), until
cancelled; a pass that fails is logged and the next one tries again (the outbox keeps it all)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import anyio

from couchpay.config import Config
from couchpay.ports.event_poster import EventPoster
from couchpay.ports.metrics import Metrics
from couchpay.ports.outbox import OutboxStore
from couchpay.service.event_delivery import Feed, FeedSettings, deliver_pending, pending_figures

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_feed(
    config: Config, store: OutboxStore, poster: EventPoster | None = None
) -> Feed | None:
    if not config.events_urls or not config.events_secret:  # Config refuses URLs alone
        return None
    if poster is None:
        from couchpay.adapters.http_event_poster import HttpEventPoster

        poster = HttpEventPoster()
    settings = FeedSettings(
        urls=config.events_urls,
        secret=config.events_secret,
        retry_base_seconds=config.events_retry_base_seconds,
        retry_max_seconds=config.events_retry_max_seconds,
    )
    return Feed(store, poster, settings, _utc_now)


async def run(config: Config, store: OutboxStore, metrics: Metrics | None = None) -> None:
    feed = build_feed(config, store)
    if feed is None:
        log.info("no COUCHPAY_EVENTS_URLS: fulfillment events wait in the outbox")
        return
    one_at_a_time = anyio.CapacityLimiter(1)
    try:
        while True:
            try:
                summary = await anyio.to_thread.run_sync(
                    deliver_pending, feed, limiter=one_at_a_time
                )
                if summary.delivered or summary.failed:
                    log.info("events: %s", summary.line())
                if metrics is not None:  # GET /metrics: couchpay_oldest_pending_event_seconds
                    figures = await anyio.to_thread.run_sync(
                        pending_figures, feed, limiter=one_at_a_time
                    )
                    metrics.pending_events(*figures)
            except Exception:
                log.exception("event delivery pass failed; trying again")
            await anyio.sleep(config.events_every_seconds)
    finally:
        feed.poster.close()
