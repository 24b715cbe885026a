"""The store contract for fulfillment events (the transactional outbox): every state change that
matters writes its event in the same atomic write, exactly once whatever the concurrency, in one
order per subject; delivery state is compare-and-set and only an acknowledgement by every
endpoint ends ``pending``. Run on every store (test_store_contract.py)."""

from dataclasses import replace
from datetime import timedelta

from couchpay.domain.catalog import CatalogItem, ItemKind
from couchpay.domain.statuses import CardStatus, PurchaseStatus
from couchpay.ports.store import Store
from tests.contract.store_contract import T0, at_once, make_card, make_purchase

P = PurchaseStatus
STREAM = CatalogItem(
    "item-stream", "Livestream ticket", ItemKind.LIVESTREAM, 2000, show_starts_at=T0
)
POSTER = CatalogItem("item-poster", "Tour poster", ItemKind.MERCH, 10000, 500)
CARD_WORDS = ("4242", "visa", "pm_123", "fp_abc", "Alice", "2031", "cus_alice")


def paid(store: Store, tx: str = "tx-1") -> None:
    store.put_item(STREAM)
    store.put_item(POSTER)
    store.claim_purchase(make_purchase(tx, "req-" + tx, status=P.PENDING))
    purchase = store.get_purchase(tx)
    assert purchase is not None
    done = replace(purchase, status=P.SUCCEEDED, updated_at=T0 + timedelta(seconds=5))
    assert store.settle_purchase(done, expected=P.PENDING)


class TestOutboxContract:
    def test_a_paid_purchase_writes_one_succeeded_event_with_no_card_data(
        self, store: Store
    ) -> None:
        paid(store)
        [event] = store.outbox_subject("purchase:tx-1")
        assert (event.type, event.sequence, event.pending) == ("purchase.succeeded", 1, True)
        assert event.created_at == T0 + timedelta(seconds=5)
        assert event.data["transactionId"] == "tx-1" and event.data["userId"] == "alice"
        assert event.data["totalCents"] == 25200 and event.data["currency"] == "usd"
        assert event.data["items"] == [
            {
                "itemId": "item-stream",
                "kind": "livestream",
                "quantity": 1,
                "unitPriceCents": 2000,
                "showStartsAt": "2025-01-31T12:00:00.123456Z",
            },
            {
                "itemId": "item-poster",
                "kind": "merch",
                "quantity": 2,
                "unitPriceCents": 10000,
                "showStartsAt": None,
            },
        ]
        assert not any(word in str(event.envelope()) for word in CARD_WORDS)
        assert store.outbox_event(event.event_id) == event
        assert store.outbox_pending(10) == [event]

    def test_a_refused_settle_writes_no_event(self, store: Store) -> None:
        paid(store)
        purchase = store.get_purchase("tx-1")
        assert purchase is not None
        assert not store.settle_purchase(replace(purchase, refunded_cents=100), P.PENDING)
        assert [e.type for e in store.outbox_subject("purchase:tx-1")] == ["purchase.succeeded"]

    def test_states_that_report_nothing_write_nothing(self, store: Store) -> None:
        store.claim_purchase(make_purchase(status=P.QUEUED))
        purchase = store.get_purchase("tx-1")
        assert purchase is not None
        assert store.settle_purchase(replace(purchase, status=P.PENDING), P.QUEUED)
        assert store.settle_purchase(replace(purchase, status=P.FAILED), P.PENDING)
        assert store.outbox_subject("purchase:tx-1") == []
        assert store.outbox_pending(10) == []

    def test_refunds_partial_then_full_are_ordered_with_amounts(self, store: Store) -> None:
        paid(store)
        purchase = store.get_purchase("tx-1")
        assert purchase is not None
        part = replace(purchase, refunded_cents=5000, updated_at=T0 + timedelta(seconds=6))
        assert store.settle_purchase(part, P.SUCCEEDED)
        full = replace(
            part, refunded_cents=25200, status=P.REFUNDED, updated_at=T0 + timedelta(seconds=7)
        )
        assert store.settle_purchase(full, P.SUCCEEDED)
        events = store.outbox_subject("purchase:tx-1")
        assert [(e.sequence, e.type) for e in events] == [
            (1, "purchase.succeeded"),
            (2, "purchase.refunded"),
            (3, "purchase.refunded"),
        ]
        assert [(e.data["amountCents"], e.data["refundedCents"]) for e in events[1:]] == [
            (5000, 5000),
            (20200, 25200),
        ]
        assert [e.data["fullyRefunded"] for e in events[1:]] == [False, True]
        assert len({e.event_id for e in events}) == 3

    def test_card_saved_then_removed_once(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        store.add_card(make_card())
        store.add_card(make_card("card-2", status=CardStatus.FAIL_CHECKS, fingerprint="fp_2"))
        cancelled = make_card(active=False, status=CardStatus.CANCELLED)
        store.update_card(cancelled)
        store.update_card(replace(cancelled, updated_at=T0 + timedelta(seconds=9)))
        events = store.outbox_subject("card:card-1")
        assert [(e.sequence, e.type) for e in events] == [(1, "card.saved"), (2, "card.removed")]
        assert events[1].data == {"cardId": "card-1", "userId": "alice", "status": "cancelled"}
        assert not any(word in str(e.envelope()) for e in events for word in CARD_WORDS)
        assert store.outbox_subject("card:card-2") == []

    def test_racing_settles_write_one_event(self, racing_store: Store) -> None:
        store = racing_store
        store.claim_purchase(make_purchase(status=P.PENDING))
        purchase = store.get_purchase("tx-1")
        assert purchase is not None
        won = at_once(
            8, lambda i: store.settle_purchase(replace(purchase, status=P.SUCCEEDED), P.PENDING)
        )
        assert won.count(True) == 1
        assert [e.type for e in store.outbox_subject("purchase:tx-1")] == ["purchase.succeeded"]

    def test_racing_removals_write_one_event(self, racing_store: Store) -> None:
        store = racing_store
        store.ensure_user("alice", T0)
        store.add_card(make_card())
        at_once(
            8, lambda i: store.update_card(make_card(active=False, status=CardStatus.CANCELLED))
        )
        types = [e.type for e in store.outbox_subject("card:card-1")]
        assert types == ["card.saved", "card.removed"]

    def test_racing_refunds_keep_one_gapless_order(self, racing_store: Store) -> None:
        store = racing_store
        paid(store)
        purchase = store.get_purchase("tx-1")
        assert purchase is not None
        at_once(
            6,
            lambda i: store.settle_purchase(
                replace(purchase, refunded_cents=100 * (i + 1)), P.SUCCEEDED
            ),
        )
        events = store.outbox_subject("purchase:tx-1")
        assert [e.sequence for e in events] == list(range(1, len(events) + 1))
        refunds = [e.data["refundedCents"] for e in events[1:]]
        assert len(refunds) >= 1 and len(set(refunds)) == len(refunds)

    def test_delivery_ends_only_when_every_endpoint_acknowledged(self, store: Store) -> None:
        paid(store)
        [event] = store.outbox_subject("purchase:tx-1")
        later = T0 + timedelta(minutes=1)
        failed = store.outbox_failed(event, "HTTP 503", later)
        assert (failed.attempts, failed.next_attempt_at, failed.pending) == (1, later, True)
        one = store.outbox_delivered(failed, "ep-a", ["ep-a", "ep-b"], later)
        assert one.pending and list(one.delivered) == ["ep-a"]
        assert [e.event_id for e in store.outbox_pending(10)] == [event.event_id]
        stale = store.outbox_delivered(failed, "ep-b", ["ep-a", "ep-b"], later)  # old version
        assert not stale.pending and sorted(stale.delivered) == ["ep-a", "ep-b"]
        assert stale.attempts == 0 and stale.last_error is None
        assert store.outbox_pending(10) == []
        assert store.outbox_subject("purchase:tx-1") == [stale]
        again = store.outbox_replay(stale)
        assert again.pending and again.delivered == {}
        assert store.outbox_pending(10) == [again]

    def test_events_since_oldest_first(self, store: Store) -> None:
        paid(store, "tx-1")
        paid(store, "tx-2")
        store.ensure_user("alice", T0)
        store.add_card(make_card())
        found = store.outbox_since(T0, 10)
        assert [e.subject for e in found] == ["card:card-1", "purchase:tx-1", "purchase:tx-2"]
        assert store.outbox_since(T0 + timedelta(seconds=3), 10) == found[1:]
        assert store.outbox_since(T0, 1) == found[:1]

    def test_an_event_waiting_out_its_backoff_is_not_due(self, store: Store) -> None:
        paid(store, "tx-1")
        paid(store, "tx-2")
        [first] = store.outbox_subject("purchase:tx-1")
        [second] = store.outbox_subject("purchase:tx-2")
        now = T0 + timedelta(minutes=1)
        assert store.outbox_pending(10, due_by=now) == [first, second]
        waiting = store.outbox_failed(first, "HTTP 500", now + timedelta(minutes=5))
        assert store.outbox_pending(10, due_by=now) == [second]
        assert store.outbox_pending(1, due_by=now) == [second]  # it takes no one's place
        assert store.outbox_pending(10, due_by=now + timedelta(minutes=5)) == [second, waiting]
        assert store.outbox_pending(10) == [second, waiting]  # operators see every pending one
