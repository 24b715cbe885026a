"""The store contract's operator half (``ports.purchase_queries``): purchases across users by
user, status and time, newest first and paged, and the narrow erasure writes of ``users forget``.
Collected by test_store_contract.py, so it runs on every store there."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from couchpay.domain.disputes import Dispute, DisputeStatus
from couchpay.domain.errors import BadRequest, NotFound
from couchpay.domain.purchases import Purchase
from couchpay.domain.shipping import ShippingAddress
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.purchase_queries import PurchaseFilter
from couchpay.ports.store import Store
from tests.contract.store_contract import T0, make_purchase

_P = PurchaseStatus
USERS = ("alice", "bob", "carol")
SETTLE_TO = (_P.SUCCEEDED, _P.FAILED, None, _P.SUCCEEDED, _P.CANCELED)


def _fill(store: Store) -> list[Purchase]:
    """30 purchases of three users, pairs sharing a created_at (ties go by id), settled into
    several statuses by the store's own compare-and-set (so the status indexes move too)."""
    made = []
    for i in range(30):
        p = make_purchase(
            f"tx-{i:02d}", f"req-{i}", USERS[i % 3], created_at=T0 + timedelta(minutes=i // 2)
        )
        store.claim_purchase(p)
        to = SETTLE_TO[i % len(SETTLE_TO)]
        if to is not None:
            p = replace(p, status=to, updated_at=T0 + timedelta(hours=1))
            assert store.settle_purchase(p, _P.PENDING)
        if to is _P.SUCCEEDED and i % 4 == 0:  # some paid ones disputed, as a webhook records it
            p = replace(p, dispute=_dispute(f"dp_{i}"), updated_at=T0 + timedelta(hours=2))
            assert store.settle_purchase(p, _P.SUCCEEDED)
        made.append(p)
    return made


def _dispute(dispute_id: str) -> Dispute:
    return Dispute(
        dispute_id=dispute_id,
        charge_id="ch_1",
        amount_cents=1000,
        currency="usd",
        reason="fraudulent",
        status=DisputeStatus.NEEDS_RESPONSE,
        evidence_due_by=T0 + timedelta(days=7),
        created_at=T0,
        updated_at=T0,
    )


def _all_pages(store: Store, where: PurchaseFilter, limit: int) -> list[Purchase]:
    found, cursor, pages = [], None, 0
    while True:
        page, cursor = store.find_purchases(where, limit, cursor)
        assert len(page) <= limit
        found += page
        pages += 1
        assert pages < 100
        if cursor is None:
            return found


FILTERS = [
    PurchaseFilter(),
    PurchaseFilter(user_id="bob"),
    PurchaseFilter(status=_P.SUCCEEDED),
    PurchaseFilter(status=_P.PENDING),
    PurchaseFilter(since=T0 + timedelta(minutes=5)),
    PurchaseFilter(user_id="alice", status=_P.SUCCEEDED),
    PurchaseFilter(user_id="carol", since=T0 + timedelta(minutes=9)),
    PurchaseFilter(status=_P.FAILED, since=T0 + timedelta(minutes=4)),
    PurchaseFilter(user_id="nobody"),
    PurchaseFilter(status=_P.REFUNDED),
    PurchaseFilter(disputed=True),
    PurchaseFilter(disputed=True, status=_P.SUCCEEDED, since=T0 + timedelta(minutes=3)),
    PurchaseFilter(disputed=True, user_id="bob"),
]


class TestOperatorQueries:
    @pytest.mark.parametrize("where", FILTERS, ids=repr)
    def test_find_pages_newest_first_with_each_filter(
        self, store: Store, where: PurchaseFilter
    ) -> None:
        made = _fill(store)
        expected = sorted(
            (p for p in made if where.matches(p)),
            key=lambda p: (p.created_at, p.transaction_id),
            reverse=True,
        )
        for limit in (4, 500):
            got = _all_pages(store, where, limit)
            assert [p.transaction_id for p in got] == [p.transaction_id for p in expected]
        assert _all_pages(store, where, 4) == expected  # whole records, as stored

    def test_a_status_filter_follows_the_settled_status(self, store: Store) -> None:
        p = make_purchase()
        store.claim_purchase(p)
        pending = PurchaseFilter(status=_P.PENDING)
        assert [x.transaction_id for x in store.find_purchases(pending, 10, None)[0]] == ["tx-1"]
        assert store.settle_purchase(replace(p, status=_P.SUCCEEDED), _P.PENDING)
        assert store.find_purchases(pending, 10, None) == ([], None)
        paid, _ = store.find_purchases(PurchaseFilter(status=_P.SUCCEEDED), 10, None)
        assert [x.status for x in paid] == [_P.SUCCEEDED]

    def test_a_cursor_already_past_since_gives_an_empty_page(self, store: Store) -> None:
        _fill(store)
        first, cursor = store.find_purchases(PurchaseFilter(), 4, None)
        assert cursor is not None
        later = PurchaseFilter(since=first[0].created_at + timedelta(minutes=1))
        assert store.find_purchases(later, 4, cursor) == ([], None)
        for status in (None, _P.SUCCEEDED):
            where = PurchaseFilter(status=status, since=first[0].created_at + timedelta(days=1))
            assert store.find_purchases(where, 4, cursor) == ([], None)

    def test_find_refuses_bad_limits_and_cursors(self, store: Store) -> None:
        for limit in (0, -1, 501):
            with pytest.raises(BadRequest, match="invalid limit"):
                store.find_purchases(PurchaseFilter(), limit, None)
        with pytest.raises(BadRequest, match="invalid cursor"):
            store.find_purchases(PurchaseFilter(), 10, "not a cursor")

    def test_erasure_changes_only_the_personal_fields(self, store: Store) -> None:
        address = ShippingAddress("Zoë O'Brien", "1 Rue de Rivoli", "Paris", "75001", "FR")
        p = make_purchase(shipping_address=address, receipt_email="zoe@example.com")
        store.claim_purchase(p)
        paid = replace(p, status=_P.SUCCEEDED, payment_intent_id="pi_1", stripe_response={"a": 1})
        assert store.settle_purchase(paid, _P.PENDING)
        erased_address = replace(address, name="[erased]", line1="[erased]", city="[erased]")
        erased = replace(
            p,
            shipping_address=erased_address,
            receipt_email=None,
            request_hash="forgotten",
            total_cents=1,  # not a personal field: must not be written
            status=_P.FAILED,
        )
        store.erase_personal_data(erased)
        got = store.get_purchase("tx-1")
        assert got == replace(
            paid, shipping_address=erased_address, receipt_email=None, request_hash="forgotten"
        )
        refunded = replace(paid, status=_P.REFUNDED, refunded_cents=paid.total_cents)
        assert store.settle_purchase(refunded, _P.SUCCEEDED)  # a late webhook, say
        got = store.get_purchase("tx-1")
        assert got is not None and got.shipping_address == erased_address
        assert got.receipt_email is None and got.status is _P.REFUNDED
        with pytest.raises(NotFound):
            store.erase_personal_data(make_purchase("tx-404"))
        assert store.get_purchase("tx-404") is None

    def test_clear_stripe_customer_only_if_still_the_same(self, store: Store) -> None:
        store.ensure_user("alice", T0)
        store.set_stripe_customer("alice", "cus_1")
        store.clear_stripe_customer("alice", "cus_other")
        assert store.get_user("alice").stripe_customer_id == "cus_1"  # type: ignore[union-attr]
        store.clear_stripe_customer("alice", "cus_1")
        store.clear_stripe_customer("alice", "cus_1")  # twice is fine
        assert store.get_user("alice").stripe_customer_id is None  # type: ignore[union-attr]
        assert store.set_stripe_customer("alice", "cus_2").stripe_customer_id == "cus_2"
        store.clear_stripe_customer("nobody", "cus_1")
        assert store.get_user("nobody") is None
