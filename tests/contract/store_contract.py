"""The Store port's contract: what every store (in-memory fake, SQLite, DynamoDB) must do.

``TestStoreContract`` uses only the port's methods and a ``store`` fixture; each test module that
subclasses or collects it provides the fixture for its store."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from couchpay.domain.cards import Card
from couchpay.domain.catalog import CatalogItem, ItemKind
from couchpay.domain.errors import BadRequest, NotFound
from couchpay.domain.purchases import Purchase, PurchaseLine
from couchpay.domain.refunds import Refund, RefundStatus
from couchpay.domain.shipping import ShippingAddress
from couchpay.domain.statuses import CardStatus, PurchaseStatus
from couchpay.ports.store import Store

T0 = datetime(2025, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)


def make_card(card_id: str = "card-1", user_id: str = "alice", **changes: Any) -> Card:
    card = Card(
        card_id=card_id,
        user_id=user_id,
        stripe_customer_id="cus_alice",
        card_token="pm_123",
        fingerprint="fp_abc",
        brand="visa",
        last_four="4242",
        exp_month=12,
        exp_year=2031,
        name_on_card="Alice Liddell",
        created_at=T0,
        updated_at=T0 + timedelta(seconds=1),
    )
    return replace(card, **changes)


def make_purchase(
    transaction_id: str = "tx-1", request_id: str = "req-1", user_id: str = "alice", **changes: Any
) -> Purchase:
    purchase = Purchase(
        transaction_id=transaction_id,
        request_id=request_id,
        request_hash="hash-" + request_id,
        user_id=user_id,
        card_id="card-1",
        card_brand="visa",
        card_last_four="4242",
        items=(
            PurchaseLine("item-stream", "Livestream ticket", 2000, 1),
            PurchaseLine("item-poster", "Tour poster", 10000, 2, shipping_cents=500),
        ),
        subtotal_cents=22000,
        streaming_cost_cents=2200,
        shipping_cents=1000,
        total_cents=25200,
        currency="usd",
        created_at=T0,
        updated_at=T0,
        payment_method_id="pm_123",
    )
    return replace(purchase, **changes)


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` for i in range(count) on as many threads, released together."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


class TestStoreContract:
    # users ---------------------------------------------------------------------------------
    def test_ensure_user_creates_once_and_keeps_the_first_record(self, store: Store) -> None:
        first = store.ensure_user("alice", T0)
        assert first.user_id == "alice"
        assert first.created_at == T0 and first.created_at.tzinfo is not None
        assert first.stripe_customer_id is None and first.default_card_id is None
        assert store.ensure_user("alice", T0 + timedelta(days=1)) == first

    def test_get_user_reads_and_never_creates(self, store: Store) -> None:
        assert store.get_user("nobody") is None
        assert store.get_user("nobody") is None
        created = store.ensure_user("alice", T0)
        assert store.get_user("alice") == created

    def test_set_stripe_customer_keeps_the_first_id(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        assert store.set_stripe_customer("alice", "cus_first").stripe_customer_id == "cus_first"
        again = store.set_stripe_customer("alice", "cus_second")
        assert again.stripe_customer_id == "cus_first"
        assert store.ensure_user("alice", T0).stripe_customer_id == "cus_first"

    def test_set_stripe_customer_race_everyone_reads_the_winner(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        got = at_once(8, lambda i: store.set_stripe_customer("alice", f"cus_{i}"))
        assert len({user.stripe_customer_id for user in got}) == 1

    def test_set_stripe_customer_for_unknown_user_is_not_found(self, store: Store) -> None:
        with pytest.raises(NotFound):
            store.set_stripe_customer("nobody", "cus_x")

    def test_default_card_set_and_cleared(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        store.set_default_card("alice", "card-1")
        assert store.ensure_user("alice", T0).default_card_id == "card-1"
        store.set_default_card("alice", None)
        assert store.ensure_user("alice", T0).default_card_id is None
        with pytest.raises(NotFound):
            store.set_default_card("nobody", "card-1")

    # cards ---------------------------------------------------------------------------------
    def test_card_round_trip_every_field(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        card = make_card()
        plain = make_card("card-2", name_on_card=None, status=CardStatus.FAIL_CHECKS, active=False)
        store.add_card(card)
        store.add_card(plain)
        assert store.get_card("card-1") == card
        got = store.get_card("card-2")
        assert got == plain
        assert got is not None and got.status is CardStatus.FAIL_CHECKS and got.active is False
        assert got.created_at.tzinfo is not None and got.updated_at.utcoffset() == timedelta(0)
        assert store.get_card("card-404") is None

    def test_update_card_writes_every_field(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        store.add_card(make_card())
        changed = make_card(
            card_token="pm_456",
            stripe_customer_id="cus_other",
            fingerprint="fp_new",
            brand="mastercard",
            last_four="4444",
            exp_month=1,
            exp_year=2033,
            name_on_card=None,
            updated_at=T0 + timedelta(days=3),
        ).cancelled(T0 + timedelta(days=4))
        store.update_card(changed)
        assert store.get_card("card-1") == changed
        with pytest.raises(NotFound):
            store.update_card(make_card("card-404"))

    def test_cards_are_listed_per_user_whatever_their_status(self, store: Store) -> None:
        for user in ("alice", "bob"):
            store.ensure_user(user, T0)
        statuses = list(CardStatus)
        for i, status in enumerate(statuses):
            store.add_card(make_card(f"a-{i}", status=status, created_at=T0 + timedelta(minutes=i)))
        store.add_card(make_card("b-1", user_id="bob", stripe_customer_id="cus_bob"))
        alice = store.list_cards("alice")
        assert [c.card_id for c in alice] == [f"a-{i}" for i in range(len(statuses))]
        assert [c.status for c in alice] == statuses
        assert [c.card_id for c in store.list_cards("bob")] == ["b-1"]
        assert store.list_cards("carol") == []

    # catalog -------------------------------------------------------------------------------
    def test_catalog_round_trip_upsert_and_active_order(self, store: Store) -> None:
        items = [
            CatalogItem("i-poster", "Tour poster", ItemKind.MERCH, 10000, 500),
            CatalogItem("i-meet", "Meet and greet", ItemKind.MEET_AND_GREET, 5000),
            CatalogItem("i-b", "B stream", ItemKind.LIVESTREAM, 2000),
            CatalogItem("i-a", "A stream", ItemKind.LIVESTREAM, 2000),
            CatalogItem("i-old", "Old shirt", ItemKind.MERCH, 100, 50, active=False),
            CatalogItem(
                "i-show",
                "Zoë live",
                ItemKind.LIVESTREAM,
                2500,
                description="Live from the Olympia — 2 hours.",
                show_starts_at=datetime(2027, 3, 14, 19, 30, tzinfo=timezone(timedelta(hours=1))),
            ),
        ]
        for item in items:
            store.put_item(item)
        assert store.get_item("i-poster") == items[0]
        old = store.get_item("i-old")
        assert old == items[4] and old is not None and old.kind is ItemKind.MERCH
        assert store.get_item("nope") is None
        show = store.get_item("i-show")
        assert show == items[5] and show is not None
        assert show.description == "Live from the Olympia — 2 hours."
        assert show.show_starts_at == datetime(2027, 3, 14, 18, 30, tzinfo=UTC)
        assert store.get_item("i-a") == items[3] and items[3].show_starts_at is None
        assert [i.item_id for i in store.list_items()] == [
            "i-a",
            "i-b",
            "i-show",
            "i-meet",
            "i-poster",
        ]

        cheaper = replace(items[0], name="Signed poster", price_cents=9000, shipping_cents=700)
        store.put_item(cheaper)
        store.put_item(replace(items[2], active=False))
        assert store.get_item("i-poster") == cheaper
        assert [i.item_id for i in store.list_items()] == ["i-a", "i-show", "i-meet", "i-poster"]

    # purchases -----------------------------------------------------------------------------
    def test_purchase_round_trip_every_field(self, store: Store) -> None:
        full = make_purchase(
            payment_intent_id="pi_1",
            status=PurchaseStatus.FAILED,
            active=False,
            failure_code="card_declined",
            failure_message="Your card was declined.",
            stripe_response={"id": "pi_1", "amount": 25200, "nested": {"a": [1, None, True]}},
            updated_at=T0 + timedelta(seconds=5),
            shipping_address=ShippingAddress(
                name="Zoë O'Brien",
                line1="1 Rue de Rivoli",
                line2="Bâtiment B",
                city="Paris",
                state="Île-de-France",
                postal_code="75001",
                country="FR",
            ),
            receipt_email="zoe@example.com",
        )
        bare = make_purchase("tx-2", "req-2", card_id=None, payment_method_id="")
        assert bare.shipping_address is None and bare.receipt_email is None
        assert store.claim_purchase(full) == (full, True)
        assert store.claim_purchase(bare) == (bare, True)
        got = store.get_purchase("tx-1")
        assert got == full
        assert got is not None and got.status is PurchaseStatus.FAILED
        assert got.shipping_address == full.shipping_address
        assert got.receipt_email == "zoe@example.com"
        assert got.items[1] == PurchaseLine("item-poster", "Tour poster", 10000, 2, 500)
        assert store.get_purchase("tx-2") == bare
        assert store.get_purchase_by_request("alice", "req-2") == bare
        assert store.get_purchase_by_request("bob", "req-2") is None
        assert store.get_purchase("tx-404") is None

    def test_datetimes_come_back_as_the_same_instant_in_utc(self, store: Store) -> None:
        paris = timezone(timedelta(hours=1))
        store.claim_purchase(make_purchase(created_at=T0.astimezone(paris)))
        got = store.get_purchase("tx-1")
        assert got is not None and got.created_at == T0 and got.created_at.tzinfo == UTC

    def test_claim_with_a_used_request_id_returns_the_first(self, store: Store) -> None:
        first = make_purchase()
        store.claim_purchase(first)
        again = make_purchase("tx-2", total_cents=1)
        assert store.claim_purchase(again) == (first, False)
        assert store.get_purchase("tx-2") is None
        other_user = make_purchase("tx-3", user_id="bob")
        assert store.claim_purchase(other_user) == (other_user, True)

    def test_claim_race_between_threads_has_one_winner(self, store: Store) -> None:
        results = at_once(16, lambda i: store.claim_purchase(make_purchase(f"tx-{i:02d}")))
        assert sum(ours for _, ours in results) == 1
        winner = next(p for p, ours in results if ours)
        assert {p.transaction_id for p, _ in results} == {winner.transaction_id}
        assert store.get_purchase_by_request("alice", "req-1") == winner

    def test_settle_moves_only_from_the_expected_status(self, store: Store) -> None:
        pending = make_purchase()
        store.claim_purchase(pending)
        action = pending.settled_as(
            PurchaseStatus.REQUIRES_ACTION,
            T0 + timedelta(seconds=1),
            payment_intent_id="pi_1",
            stripe_response={"id": "pi_1", "status": "requires_action"},
        )
        assert store.settle_purchase(action, PurchaseStatus.PENDING) is True
        assert store.get_purchase("tx-1") == action

        stale = pending.settled_as(
            PurchaseStatus.FAILED, T0 + timedelta(seconds=2), failure_code="card_declined"
        )
        assert store.settle_purchase(stale, PurchaseStatus.PENDING) is False
        assert store.get_purchase("tx-1") == action

        paid = action.settled_as(PurchaseStatus.SUCCEEDED, T0 + timedelta(seconds=3))
        assert store.settle_purchase(paid, PurchaseStatus.REQUIRES_ACTION) is True
        assert store.get_purchase("tx-1") == paid
        assert store.settle_purchase(make_purchase("tx-404"), PurchaseStatus.PENDING) is False

    def test_a_settle_from_a_stale_copy_in_the_same_status_loses(self, store: Store) -> None:
        """``read_at``: the optimistic lock for writes that keep the status (a refund, a
        dispute). Two writers read the paid record; the first writes; the second, whose copy
        predates that write, loses instead of writing the old fields back."""
        store.claim_purchase(make_purchase())
        paid = make_purchase(status=PurchaseStatus.SUCCEEDED)
        assert store.settle_purchase(paid, PurchaseStatus.PENDING)
        read = store.get_purchase("tx-1")
        assert read is not None
        refunded = replace(read, refunded_cents=500, updated_at=T0 + timedelta(seconds=5))
        assert store.settle_purchase(refunded, read.status, read_at=read.updated_at)
        stale = replace(read, failure_message="x", updated_at=T0 + timedelta(seconds=6))
        assert not store.settle_purchase(stale, read.status, read_at=read.updated_at)
        assert store.get_purchase("tx-1") == refunded
        again = replace(refunded, refunded_cents=700, updated_at=T0 + timedelta(seconds=7))
        assert store.settle_purchase(again, refunded.status, read_at=refunded.updated_at)
        assert store.get_purchase("tx-1") == again

    def test_history_pages_newest_first_without_gaps_or_duplicates(self, store: Store) -> None:
        made = []
        for i in range(45):  # groups of three share a created_at: ties go by transaction_id
            created = T0 + timedelta(seconds=i // 3)
            made.append(make_purchase(f"tx-{i:02d}", f"req-{i}", created_at=created))
        for i, purchase in enumerate(reversed(made)):  # insertion order must not matter
            store.claim_purchase(purchase)
            store.claim_purchase(make_purchase(f"bob-{i}", f"req-{i}", user_id="bob"))
        expected = sorted(made, key=lambda p: (p.created_at, p.transaction_id), reverse=True)

        pages, cursor = [], None
        while True:
            page, cursor = store.list_purchases("alice", 20, cursor)
            pages.append(page)
            if cursor is None:
                break
            assert cursor.replace("-", "").replace("_", "").isalnum()
        assert [len(page) for page in pages] == [20, 20, 5]
        assert [p for page in pages for p in page] == expected

    def test_history_edges(self, store: Store) -> None:
        assert store.list_purchases("alice", 20, None) == ([], None)
        for i in range(3):
            store.claim_purchase(make_purchase(f"tx-{i}", f"req-{i}"))
        page, cursor = store.list_purchases("alice", 3, None)
        assert len(page) == 3 and cursor is None
        page, cursor = store.list_purchases("alice", 2, None)
        assert [p.transaction_id for p in page] == ["tx-2", "tx-1"] and cursor is not None
        assert store.list_purchases("bob", 2, cursor) == ([], None)

    @pytest.mark.parametrize(
        "cursor", ["", "not a cursor", "!!!!", "bm9wZQ", "WyJ4IiwieSJd", "W10", "e30", "é" * 8]
    )
    def test_malformed_cursor_is_a_bad_request(self, store: Store, cursor: str) -> None:
        with pytest.raises(BadRequest, match="invalid cursor"):
            store.list_purchases("alice", 20, cursor)

    # webhooks ------------------------------------------------------------------------------
    def test_record_event_once(self, store: Store) -> None:
        assert store.record_event("evt_1", "payment_intent.succeeded", T0) is True
        assert store.record_event("evt_1", "payment_intent.succeeded", T0) is False
        assert store.record_event("evt_2", "charge.refunded", T0) is True

    # SQLite-specific ---------------------------------------------------------------------------

    # look-ups for webhooks, reconcile and operator jobs --------------------------------------
    def test_purchase_by_intent_and_unsettled_oldest_first(self, store: Store) -> None:
        old = make_purchase("tx-old", "r-old", updated_at=T0)
        new = make_purchase("tx-new", "r-new", updated_at=T0 + timedelta(minutes=10))
        done = make_purchase("tx-done", "r-done", updated_at=T0)
        for p in (new, old, done):
            store.claim_purchase(p)
        settled = replace(done, status=PurchaseStatus.SUCCEEDED, payment_intent_id="pi_done")
        assert store.settle_purchase(settled, PurchaseStatus.PENDING)
        assert store.get_purchase_by_intent("pi_done") == settled
        assert store.get_purchase_by_intent("pi_nope") is None
        cutoff = T0 + timedelta(minutes=20)
        assert [p.transaction_id for p in store.list_unsettled_purchases(cutoff, 10)] == [
            "tx-old",
            "tx-new",
        ]
        assert [p.transaction_id for p in store.list_unsettled_purchases(cutoff, 1)] == ["tx-old"]
        early = T0 + timedelta(minutes=5)
        assert [p.transaction_id for p in store.list_unsettled_purchases(early, 10)] == ["tx-old"]

    def test_refunded_cents_are_settled_with_the_record(self, store: Store) -> None:
        p = make_purchase()
        store.claim_purchase(p)
        paid = replace(p, status=PurchaseStatus.SUCCEEDED)
        store.settle_purchase(paid, PurchaseStatus.PENDING)
        refunded = replace(paid, refunded_cents=700)
        assert store.settle_purchase(refunded, PurchaseStatus.SUCCEEDED)
        assert store.get_purchase(p.transaction_id) == refunded

    def test_cards_by_token_and_by_status(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        store.ensure_user("bob", T0)
        store.add_card(make_card("c1", card_token="pm_shared"))
        store.add_card(make_card("c2", user_id="bob", card_token="pm_shared"))
        store.add_card(make_card("c3", card_token="pm_other", status=CardStatus.EXPIRED))
        assert [c.card_id for c in store.find_cards_by_token("pm_shared")] == ["c1", "c2"]
        assert store.find_cards_by_token("pm_none") == []
        assert [c.card_id for c in store.cards_with_status(CardStatus.LIVE)] == ["c1", "c2"]
        assert [c.card_id for c in store.cards_with_status(CardStatus.EXPIRED)] == ["c3"]

    def test_all_items_include_inactive_ones(self, store: Store) -> None:
        store.put_item(CatalogItem("a", "A", ItemKind.MERCH, 100))
        store.put_item(CatalogItem("b", "B", ItemKind.MERCH, 50, active=False))
        assert [i.item_id for i in store.list_items()] == ["a"]
        assert [i.item_id for i in store.list_all_items()] == ["b", "a"]

    def test_refunds_are_claimed_once_and_updated(self, store: Store) -> None:
        store.claim_purchase(make_purchase())
        refund = Refund("tx-1:full", "tx-1", 25200, T0, T0)
        assert store.claim_refund(refund) == (refund, True)
        again = Refund("tx-1:full", "tx-1", 1, T0, T0)
        assert store.claim_refund(again) == (refund, False)
        done = refund.settled_as(RefundStatus.SUCCEEDED, T0 + timedelta(seconds=1), "re_1")
        store.update_refund(done)
        later = Refund("tx-1:second", "tx-1", 5, T0 + timedelta(seconds=2), T0)
        store.claim_refund(later)
        assert store.list_refunds("tx-1") == [done, later]
        assert store.list_refunds("tx-2") == []
        with pytest.raises(NotFound):
            store.update_refund(Refund("nope", "tx-1", 1, T0, T0))

    def test_claim_refund_race_has_one_winner(self, store: Store) -> None:
        store.claim_purchase(make_purchase())
        got = at_once(8, lambda i: store.claim_refund(Refund("k", "tx-1", i + 1, T0, T0)))
        assert sum(1 for _, ours in got if ours) == 1
        assert len({r.amount_cents for r, _ in got}) == 1
