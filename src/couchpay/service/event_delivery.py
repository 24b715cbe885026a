"""Delivering fulfillment events: at least once, in order per subject, never lost.

The outbox (``ports.outbox``) holds every event from the moment its change was written. A pass
(``deliver_pending``: ``couchpay serve`` every ``COUCHPAY_EVENTS_EVERY_SECONDS``, the scheduled
``deliverEvents`` Lambda on AWS; ``deliver_subjects``: the events table's stream on AWS) works
subject by subject (several subjects side by side, each one's events one after the other):

* a subject's events are re-read consistently, in sequence order; an event is sent only after
  every earlier event of its subject was acknowledged by every endpoint, so a failing event
  blocks the rest of its subject (and only its subject);
* an event is POSTed, signed (``domain.event_signature``), to each configured endpoint that has
  not acknowledged it yet; a 2xx is recorded for that endpoint, and only then; the event stops
  being pending when every endpoint has acknowledged it;
* a failure (no answer, or anything but 2xx) is counted and the event waits ``backoff`` before
  the next attempt (exponential, capped; never given up: an event is never dropped); an
  endpoint that gave no answer is not tried again in the same pass.

Two passes at once (two processes, a stream batch and the schedule) may send an event twice;
receivers dedupe by its id. The first arrival of each event still follows its subject's order.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from couchpay.domain.event_signature import SIGNATURE_HEADER, sign
from couchpay.domain.events import OutboxEvent
from couchpay.ports.event_poster import EventPoster, PostFailed
from couchpay.ports.outbox import OutboxStore

log = logging.getLogger(__name__)
PASS_SIZE = 200
NO_ANSWER = "no answer"


@dataclass(frozen=True)
class FeedSettings:
    urls: tuple[str, ...]
    secret: str
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 3600.0
    parallel_subjects: int = 8
    """Subjects delivered at once (each one's events stay in order, one after the other)."""

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure in a row: base, 2 x base, ... capped."""
        exponent = min(max(attempts - 1, 0), 40)
        return timedelta(seconds=min(self.retry_base_seconds * 2**exponent, self.retry_max_seconds))


def endpoint_key(url: str) -> str:
    """How an endpoint is named in an event's delivery state (not its URL, which may carry a
    token of the receiver's)."""
    return "ep_" + hashlib.sha256(url.encode()).hexdigest()[:16]


@dataclass
class Feed:
    store: OutboxStore
    poster: EventPoster
    settings: FeedSettings
    now: Callable[[], datetime]

    @property
    def keys(self) -> list[str]:
        return [endpoint_key(u) for u in self.settings.urls]


@dataclass
class PassSummary:
    delivered: int = 0
    failed: int = 0
    blocked_subjects: list[str] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)
    """Endpoints that gave no answer in this pass: not tried again before the next pass (a
    receiver that hangs costs one timeout per pass and worker, not one per event)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, delivered: int = 0, failed: int = 0, blocked: str | None = None) -> None:
        with self.lock:
            self.delivered += delivered
            self.failed += failed
            if blocked is not None:
                self.blocked_subjects.append(blocked)

    def line(self) -> str:
        return (
            f"{self.delivered} delivered, {self.failed} failed,"
            f" {len(self.blocked_subjects)} subjects waiting to retry"
        )


def body_of(event: OutboxEvent) -> bytes:
    return json.dumps(event.envelope(), separators=(",", ":"), sort_keys=True).encode()


def deliver_pending(feed: Feed, limit: int = PASS_SIZE) -> PassSummary:
    """One pass over the subjects of the events due first (an event waiting out its backoff is
    not due, so it never takes the place of others)."""
    due = feed.store.outbox_pending(limit, due_by=feed.now())
    subjects = dict.fromkeys(e.subject for e in due)
    return deliver_subjects(feed, subjects)


def deliver_subjects(feed: Feed, subjects: Iterable[str]) -> PassSummary:
    """Each subject's pending events in order; subjects side by side (``parallel_subjects``)."""
    summary = PassSummary()
    if not feed.settings.urls:
        return summary

    def one(subject: str) -> None:
        if not _deliver_subject(feed, subject, summary):
            summary.add(blocked=subject)

    todo = list(dict.fromkeys(subjects))
    workers = max(1, min(feed.settings.parallel_subjects, len(todo)))
    if workers == 1:
        for subject in todo:
            one(subject)
        return summary
    with ThreadPoolExecutor(workers, thread_name_prefix="couchpay-events") as pool:
        list(pool.map(one, todo))  # re-raises the first error, after every subject had its go
    return summary


def _deliver_subject(feed: Feed, subject: str, summary: PassSummary) -> bool:
    """Send the subject's pending events in order, **per endpoint**: an endpoint that has not
    taken an earlier event of the subject (it failed, waits out its backoff, or gave no answer
    this pass) is not sent the later ones, and nothing holds back the other endpoints. A later
    event held back only for such an endpoint waits as long as the event before it (so held-back
    events never crowd the pass). False when the subject has to wait for some endpoint."""
    keys = dict(zip(feed.keys, feed.settings.urls, strict=True))
    blocked: set[str] = set()
    waits_until: datetime | None = None
    for event in feed.store.outbox_subject(subject):
        if not event.pending:
            continue
        missing = [k for k in keys if k not in event.delivered]
        if not missing:  # every endpoint has it (one was removed from the settings meanwhile)
            feed.store.outbox_complete(event, list(keys))
            continue
        if event.next_attempt_at is not None and event.next_attempt_at > feed.now():
            blocked.update(missing)
            waits_until = max(waits_until or event.next_attempt_at, event.next_attempt_at)
            continue
        held = [k for k in missing if k in blocked or k in summary.unreachable]
        current = event
        for key in [k for k in missing if k not in held]:
            current, retry_at = _send(feed, current, keys[key], key, summary)
            if retry_at is not None:
                blocked.add(key)
                waits_until = max(waits_until or retry_at, retry_at)
        if held:
            blocked.update(held)
            until = waits_until or feed.now() + feed.settings.backoff(1)
            feed.store.outbox_defer(current, until)
    return not blocked


def _send(
    feed: Feed, event: OutboxEvent, url: str, key: str, summary: PassSummary
) -> tuple[OutboxEvent, datetime | None]:
    """Post ``event`` to one endpoint; the stored event, and when to retry if it failed."""
    error = _post(feed, url, event, body_of(event))
    if error is None:
        summary.add(delivered=1)
        return feed.store.outbox_delivered(event, key, feed.keys, feed.now()), None
    if error.startswith(NO_ANSWER):
        summary.unreachable.add(key)
    retry_at = feed.now() + feed.settings.backoff(event.attempts + 1)
    summary.add(failed=1)
    log.warning(
        "event %s (%s #%d) to %s: %s; next attempt at %s",
        event.event_id,
        event.subject,
        event.sequence,
        key,
        error,
        retry_at.isoformat(),
    )
    return feed.store.outbox_failed(event, error, retry_at), retry_at


def _post(feed: Feed, url: str, event: OutboxEvent, body: bytes) -> str | None:
    """Send once; None when the receiver acknowledged (2xx), else what went wrong."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "couchpay-events/1",
        "Couchpay-Event-Id": event.event_id,
        "Couchpay-Event-Type": event.type.value,
        SIGNATURE_HEADER: sign(feed.settings.secret, int(feed.now().timestamp()), body),
    }
    try:
        status = feed.poster.post(url, body, headers)
    except PostFailed as exc:
        return f"{NO_ANSWER} ({exc})"
    return None if 200 <= status < 300 else f"HTTP {status}"


def pending_figures(feed: Feed, limit: int = PASS_SIZE) -> tuple[int, float]:
    """(pending events, age in seconds of the oldest), over the first ``limit`` pending: exact
    below ``limit``, a lower bound above it (enough for an alarm on the age)."""
    pending = feed.store.outbox_pending(limit)
    now = feed.now()
    oldest = max(((now - e.created_at).total_seconds() for e in pending), default=0.0)
    return len(pending), max(oldest, 0.0)


def replay(feed_store: OutboxStore, events: Iterable[OutboxEvent]) -> int:
    """Make events pending again (every endpoint gets them again); returns how many."""
    count = 0
    for event in events:
        feed_store.outbox_replay(event)
        count += 1
    return count
