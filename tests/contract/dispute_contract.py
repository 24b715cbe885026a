"""The store contract for a purchase's dispute: written only by ``settle_purchase`` (a
compare-and-set on the stored status), read back whole by every read, on every store."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from couchpay.domain.disputes import Dispute, DisputeStatus
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.store import Store
from tests.contract.store_contract import T0, make_purchase

DISPUTE = Dispute(
    dispute_id="dp_1Abc",
    charge_id="ch_1Abc",
    amount_cents=25200,
    currency="usd",
    reason="fraudulent",
    status=DisputeStatus.NEEDS_RESPONSE,
    evidence_due_by=T0 + timedelta(days=7),
    created_at=T0 + timedelta(hours=1),
    updated_at=T0 + timedelta(hours=1, microseconds=7),
)


def paid(store: Store) -> None:
    claimed, _ = store.claim_purchase(make_purchase(payment_intent_id="pi_1"))
    assert store.settle_purchase(
        replace(claimed, status=PurchaseStatus.SUCCEEDED), PurchaseStatus.PENDING
    )


class TestDisputeContract:
    def test_a_purchase_has_no_dispute_until_one_is_recorded(self, store: Store) -> None:
        store.claim_purchase(make_purchase())
        stored = store.get_purchase("tx-1")
        assert stored is not None and stored.dispute is None

    def test_settle_records_the_dispute_and_every_read_returns_it_whole(self, store: Store) -> None:
        paid(store)
        current = store.get_purchase("tx-1")
        assert current is not None
        with_dispute = replace(current, dispute=DISPUTE, updated_at=T0 + timedelta(hours=1))
        assert store.settle_purchase(with_dispute, PurchaseStatus.SUCCEEDED)
        assert store.get_purchase("tx-1") == with_dispute
        assert store.get_purchase_by_intent("pi_1") == with_dispute
        assert store.get_purchase_by_request("alice", "req-1") == with_dispute
        assert store.list_purchases("alice", 10, None)[0] == [with_dispute]

    def test_the_dispute_moves_on_and_a_missing_deadline_reads_as_none(self, store: Store) -> None:
        paid(store)
        current = store.get_purchase("tx-1")
        assert current is not None
        store.settle_purchase(replace(current, dispute=DISPUTE), PurchaseStatus.SUCCEEDED)
        won = replace(DISPUTE, status=DisputeStatus.WON, evidence_due_by=None, updated_at=T0)
        closed = replace(current, dispute=won, updated_at=T0 + timedelta(days=2))
        assert store.settle_purchase(closed, PurchaseStatus.SUCCEEDED)
        stored = store.get_purchase("tx-1")
        assert stored is not None and stored.dispute == won
        assert stored.dispute.evidence_due_by is None

    def test_a_writer_expecting_another_status_changes_nothing(self, store: Store) -> None:
        paid(store)
        current = store.get_purchase("tx-1")
        assert current is not None
        stale = replace(current, status=PurchaseStatus.PENDING, dispute=DISPUTE)
        assert not store.settle_purchase(stale, PurchaseStatus.PENDING)
        assert store.get_purchase("tx-1") == current

    def test_a_later_settle_keeps_the_dispute_it_carries(self, store: Store) -> None:
        paid(store)
        current = store.get_purchase("tx-1")
        assert current is not None
        disputed = replace(current, dispute=DISPUTE)
        store.settle_purchase(disputed, PurchaseStatus.SUCCEEDED)
        refunded = replace(disputed, status=PurchaseStatus.REFUNDED, refunded_cents=25200)
        assert store.settle_purchase(refunded, PurchaseStatus.SUCCEEDED)
        assert store.get_purchase("tx-1") == refunded
