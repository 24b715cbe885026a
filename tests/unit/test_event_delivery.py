"""The deliverer over the in-memory store and a fake poster: order per subject, a failure blocks
only its own subject, marks only after a 2xx, exponential backoff, every endpoint."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from couchpay.domain.event_signature import SIGNATURE_HEADER
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.event_poster import EventPoster, PostFailed
from couchpay.service.event_delivery import (
    Feed,
    FeedSettings,
    deliver_pending,
    endpoint_key,
)
from tests.contract.store_contract import make_purchase
from tests.unit.fakes import MemoryStore

P = PurchaseStatus
A, B = "http://127.0.0.1:1/a", "http://127.0.0.1:1/b"


class Poster(EventPoster):
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, int]] = []  # (url, subject, sequence)
        self.answer: dict[tuple[str, str], int | None] = {}  # (url, subject) -> status / None

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        import json

        event = json.loads(body)
        assert headers[SIGNATURE_HEADER].startswith("t=")
        self.sent.append((url, event["subject"], event["sequence"]))
        status = self.answer.get((url, event["subject"]), 204)
        if status is None:
            raise PostFailed("ConnectError")
        return status


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def paid_and_refunded(store: MemoryStore, tx: str) -> None:
    store.claim_purchase(make_purchase(tx, "req-" + tx, status=P.PENDING))
    p = store.get_purchase(tx)
    assert p is not None
    assert store.settle_purchase(replace(p, status=P.SUCCEEDED), P.PENDING)
    assert store.settle_purchase(replace(p, status=P.SUCCEEDED, refunded_cents=100), P.SUCCEEDED)


def setup(urls: tuple[str, ...] = (A,)) -> tuple[MemoryStore, Poster, Clock, Feed]:
    store, poster, clock = MemoryStore(), Poster(), Clock()
    feed = Feed(store, poster, FeedSettings(urls, "whsec_x", 5, 60, parallel_subjects=1), clock)
    return store, poster, clock, feed


def test_everything_is_sent_in_order_and_marked_delivered() -> None:
    store, poster, _, feed = setup()
    paid_and_refunded(store, "tx-1")
    paid_and_refunded(store, "tx-2")
    summary = deliver_pending(feed)
    assert summary.delivered == 4 and summary.failed == 0
    assert [s for s in poster.sent if s[1] == "purchase:tx-1"] == [
        (A, "purchase:tx-1", 1),
        (A, "purchase:tx-1", 2),
    ]
    assert store.outbox_pending(10) == []
    assert deliver_pending(feed).delivered == 0  # nothing twice


def test_a_failing_event_blocks_its_subject_only_and_backs_off() -> None:
    store, poster, clock, feed = setup()
    paid_and_refunded(store, "tx-1")
    paid_and_refunded(store, "tx-2")
    poster.answer[(A, "purchase:tx-1")] = 500
    summary = deliver_pending(feed)
    assert summary.blocked_subjects == ["purchase:tx-1"]
    assert [s for s in poster.sent if s[1] == "purchase:tx-1"] == [(A, "purchase:tx-1", 1)]
    assert [s[2] for s in poster.sent if s[1] == "purchase:tx-2"] == [1, 2]
    first = store.outbox_subject("purchase:tx-1")[0]
    assert first.pending and first.attempts == 1 and first.last_error == "HTTP 500"
    assert first.next_attempt_at == clock.now + timedelta(seconds=5)

    poster.answer[(A, "purchase:tx-1")] = None  # no answer at all, after the wait
    clock.now += timedelta(seconds=5)
    deliver_pending(feed)
    second = store.outbox_subject("purchase:tx-1")[0]
    assert second.attempts == 2 and second.next_attempt_at == clock.now + timedelta(seconds=10)
    assert deliver_pending(feed).failed == 0  # still waiting: not sent again before its time

    del poster.answer[(A, "purchase:tx-1")]
    clock.now += timedelta(seconds=10)
    assert deliver_pending(feed).delivered == 2
    assert [s[2] for s in poster.sent if s[1] == "purchase:tx-1"] == [1, 1, 1, 2]
    assert store.outbox_pending(10) == []


def test_the_backoff_is_capped_and_never_gives_up() -> None:
    settings = FeedSettings((A,), "s", 5, 60)
    assert [settings.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 50)] == [
        5,
        10,
        20,
        40,
        60,
        60,
    ]


def test_each_endpoint_acknowledges_for_itself() -> None:
    store, poster, clock, feed = setup((A, B))
    paid_and_refunded(store, "tx-1")
    poster.answer[(B, "purchase:tx-1")] = 503
    deliver_pending(feed)
    first = store.outbox_subject("purchase:tx-1")[0]
    assert first.pending and list(first.delivered) == [endpoint_key(A)]
    del poster.answer[(B, "purchase:tx-1")]
    clock.now += timedelta(minutes=1)
    deliver_pending(feed)
    assert store.outbox_pending(10) == []
    assert [s[0] for s in poster.sent if s[2] == 1] == [A, B, B]  # A was not sent twice


def test_no_endpoint_sends_nothing_and_keeps_everything() -> None:
    store, poster, _, feed = setup(())
    paid_and_refunded(store, "tx-1")
    assert deliver_pending(feed).delivered == 0
    assert len(store.outbox_pending(10)) == 2 and poster.sent == []


def test_an_endpoint_that_does_not_answer_is_tried_once_a_pass() -> None:
    store, poster, clock, feed = setup()
    for n in range(3):
        paid_and_refunded(store, f"tx-{n}")
        poster.answer[(A, f"purchase:tx-{n}")] = None  # a receiver that hangs or refuses
    summary = deliver_pending(feed)
    assert len(poster.sent) == 1 and summary.failed == 1 and len(summary.blocked_subjects) == 3
    assert sum(e.attempts for e in store.outbox_pending(10)) == 1  # the others wait untouched
    for n in range(3):
        del poster.answer[(A, f"purchase:tx-{n}")]
    clock.now += timedelta(seconds=5)
    assert deliver_pending(feed).delivered == 6


def test_subjects_side_by_side_each_in_order() -> None:
    store, poster, _, feed = setup()
    feed.settings = FeedSettings((A,), "whsec_x", 5, 60, parallel_subjects=4)
    for n in range(12):
        paid_and_refunded(store, f"tx-{n}")
    poster.answer[(A, "purchase:tx-5")] = 500
    summary = deliver_pending(feed)
    assert summary.delivered == 22 and summary.failed == 1
    assert summary.blocked_subjects == ["purchase:tx-5"]
    for n in range(12):
        sent = [s[2] for s in poster.sent if s[1] == f"purchase:tx-{n}"]
        assert sent == ([1] if n == 5 else [1, 2])


def test_an_endpoint_that_is_down_holds_back_only_itself() -> None:
    """The warehouse is down: the stream still gets every event, in order; the warehouse gets
    them all, in order, once it is back."""
    store, poster, clock, feed = setup((A, B))
    for n in range(3):
        paid_and_refunded(store, f"tx-{n}")
        poster.answer[(A, f"purchase:tx-{n}")] = 503
    deliver_pending(feed)
    to_b = [(s[1], s[2]) for s in poster.sent if s[0] == B]
    assert sorted(to_b) == [(f"purchase:tx-{n}", q) for n in range(3) for q in (1, 2)]
    assert [s for s in poster.sent if s[0] == A and s[2] == 2] == []  # A: never #2 before #1
    for n in range(3):
        del poster.answer[(A, f"purchase:tx-{n}")]
    for _ in range(3):
        clock.now += timedelta(minutes=1)
        deliver_pending(feed)
    assert store.outbox_pending(10) == []
    for n in range(3):
        assert [s[2] for s in poster.sent if s[0] == A and s[1] == f"purchase:tx-{n}"] == [1, 1, 2]
    assert len([s for s in poster.sent if s[0] == B]) == 6  # B never got anything twice


def test_events_waiting_only_for_a_removed_endpoint_stop_being_pending() -> None:
    store, poster, clock, feed = setup((A, B))
    paid_and_refunded(store, "tx-1")
    poster.answer[(B, "purchase:tx-1")] = 503
    deliver_pending(feed)
    assert len(store.outbox_pending(10)) == 2
    feed.settings = FeedSettings((A,), "whsec_x", 5, 60, parallel_subjects=1)
    clock.now += timedelta(minutes=1)
    deliver_pending(feed)
    assert store.outbox_pending(10) == []


def test_events_held_back_behind_a_failure_do_not_crowd_out_new_ones() -> None:
    store, poster, clock, feed = setup()
    for n in range(3):
        paid_and_refunded(store, f"tx-{n}")
        poster.answer[(A, f"purchase:tx-{n}")] = 503
    deliver_pending(feed, limit=3)
    clock.now += timedelta(seconds=1)  # all three subjects wait out their backoff
    paid_and_refunded(store, "tx-new")
    deliver_pending(feed, limit=3)
    assert [s[2] for s in poster.sent if s[1] == "purchase:tx-new"] == [1, 2]
