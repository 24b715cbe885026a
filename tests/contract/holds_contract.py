"""The store contract for showtime: limited items' units are held with the claim, in the same
atomic write, never past the capacity, under any interleaving; released exactly once when the
purchase fails or is canceled; kept when it is paid. Queued purchases are unsettled."""

from dataclasses import replace
from datetime import timedelta

import pytest

from couchpay.domain.catalog import CatalogItem, ItemKind
from couchpay.domain.errors import SoldOut
from couchpay.domain.purchases import Purchase, PurchaseLine
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.store import Store
from tests.contract.store_contract import T0, at_once, make_purchase

P = PurchaseStatus
MEET = CatalogItem("i-meet", "Meet and greet", ItemKind.MEET_AND_GREET, 5000, capacity=5)


def meet_purchase(n: int, quantity: int = 1, **changes: object) -> Purchase:
    line = PurchaseLine(MEET.item_id, MEET.name, MEET.price_cents, quantity, limited=True)
    return make_purchase(
        f"tx-{n:03d}", f"req-{n:03d}", user_id=f"fan-{n}", items=(line,), **changes
    )


def claim(store: Store, purchase: Purchase) -> bool:
    try:
        return store.claim_purchase(purchase, {MEET.item_id: 5})[1]
    except SoldOut:
        return False


class TestHoldsContract:
    def test_capacity_round_trips_and_catalog_writes_keep_the_holds(self, store: Store) -> None:
        store.put_item(MEET)
        assert store.get_item(MEET.item_id) == MEET
        assert claim(store, meet_purchase(1, 2, status=P.QUEUED))
        store.put_item(replace(MEET, name="Meet & greet", capacity=6))
        assert store.held_units() == {MEET.item_id: 2}
        got = store.get_item(MEET.item_id)
        assert got is not None and got.capacity == 6 and got.remaining(2) == 4

    def test_never_oversold_by_concurrent_claims(self, racing_store: Store) -> None:
        store = racing_store
        store.put_item(MEET)
        won = at_once(12, lambda i: claim(store, meet_purchase(i, status=P.QUEUED)))
        assert sum(won) == 5
        assert store.held_units() == {MEET.item_id: 5}
        lost = [i for i, ok in enumerate(won) if not ok]
        assert all(store.get_purchase(f"tx-{i:03d}") is None for i in lost)  # nothing written

    def test_a_claim_too_big_writes_nothing(self, store: Store) -> None:
        store.put_item(MEET)
        assert claim(store, meet_purchase(1, 4))
        with pytest.raises(SoldOut):
            store.claim_purchase(meet_purchase(2, 2), {MEET.item_id: 5})
        assert store.get_purchase("tx-002") is None
        assert store.held_units() == {MEET.item_id: 4}

    def test_a_repeated_claim_holds_nothing_more(self, store: Store) -> None:
        store.put_item(MEET)
        first = meet_purchase(1, 2)
        assert claim(store, first)
        again = replace(first, transaction_id="tx-other")
        assert store.claim_purchase(again, {MEET.item_id: 5}) == (first, False)
        assert store.held_units() == {MEET.item_id: 2}

    def test_failing_releases_once_and_paying_keeps(self, store: Store) -> None:
        store.put_item(MEET)
        queued = meet_purchase(1, 2, status=P.QUEUED)
        paid = meet_purchase(2, 1)
        assert claim(store, queued) and claim(store, paid)
        later = T0 + timedelta(seconds=1)
        busy = queued.settled_as(P.FAILED, later, failure_code="busy")
        assert store.settle_purchase(busy, P.QUEUED)
        assert not store.settle_purchase(busy, P.QUEUED)  # a second try moves nothing
        assert store.held_units() == {MEET.item_id: 1}
        assert store.settle_purchase(paid.settled_as(P.SUCCEEDED, later), P.PENDING)
        assert store.held_units() == {MEET.item_id: 1}
        assert store.get_purchase("tx-001") == busy

    def test_release_and_claim_race_never_oversells(self, racing_store: Store) -> None:
        store = racing_store
        store.put_item(MEET)
        holders = [meet_purchase(i, status=P.QUEUED) for i in range(5)]
        assert all(claim(store, p) for p in holders)
        later = T0 + timedelta(seconds=1)

        def work(i: int) -> bool:
            if i < 5:
                failed = holders[i].settled_as(P.FAILED, later, failure_code="busy")
                return store.settle_purchase(failed, P.QUEUED)
            return claim(store, meet_purchase(100 + i, status=P.QUEUED))

        results = at_once(15, work)
        assert all(results[:5])
        assert sum(results[5:]) <= 5
        assert store.held_units() == {MEET.item_id: sum(results[5:])}

    def test_queued_purchases_are_unsettled(self, store: Store) -> None:
        store.claim_purchase(make_purchase(status=P.QUEUED))
        found = store.list_unsettled_purchases(T0 + timedelta(minutes=1), 10)
        assert [(p.transaction_id, p.status) for p in found] == [("tx-1", P.QUEUED)]
