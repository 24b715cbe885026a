"""charge.dispute.* webhooks over the fakes: the dispute re-read from 'Stripe' is recorded on its
purchase, only ever forward, through the store's compare-and-set; refunds under a dispute."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from couchpay.domain.disputes import Dispute, DisputeStatus
from couchpay.domain.errors import BadRequest
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PaymentIntentStatus, PurchaseStatus
from couchpay.ports.gateway import DisputeResult, PaymentIntentResult
from couchpay.ports.store_errors import StoreError
from couchpay.service.context import Services
from couchpay.service.refunds import refund_purchase
from couchpay.service.webhooks import WebhookEvent, handle_event
from tests.contract.store_contract import make_purchase
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeGateway, MemoryStore

T = NOW - timedelta(days=3)


def stripe_says(gateway: FakeGateway, status: DisputeStatus, **changes: object) -> Dispute:
    d = Dispute("dp_1", "ch_1", 25200, "usd", "fraudulent", status, T + timedelta(days=7), T, T)
    d = replace(d, **changes)  # type: ignore[arg-type]
    gateway.disputes[d.dispute_id] = DisputeResult(d, "pi_1")
    return d


def paid(store: MemoryStore, gateway: FakeGateway, with_intent: bool = True) -> Purchase:
    p = make_purchase(
        status=PurchaseStatus.SUCCEEDED, payment_intent_id="pi_1" if with_intent else None
    )
    store.purchases[p.transaction_id] = p
    gateway.intents["pi_1"] = PaymentIntentResult(
        "pi_1", PaymentIntentStatus.SUCCEEDED, 25200, "usd", metadata={"transaction_id": "tx-1"}
    )
    return p


def event(kind: str, n: int = 1, dispute_id: str = "dp_1", pi: str | None = None) -> WebhookEvent:
    """A signed event naming the dispute (and, as Stripe's do, its PaymentIntent when ``pi``)."""
    return WebhookEvent(f"evt_{n}", f"charge.dispute.{kind}", dispute_id, pi)


def stored(store: MemoryStore) -> Dispute | None:
    return store.purchases["tx-1"].dispute


def test_created_then_won_is_recorded_with_the_time_we_recorded_it(
    svc: Services, store: MemoryStore, gateway: FakeGateway
) -> None:
    before = paid(store, gateway)
    opened = stripe_says(gateway, DisputeStatus.NEEDS_RESPONSE)
    assert handle_event(svc, event("created")) == ("dispute needs_response", True)
    assert stored(store) == replace(opened, updated_at=NOW)
    assert store.purchases["tx-1"].status is PurchaseStatus.SUCCEEDED  # money, not status
    assert store.purchases["tx-1"].refunded_cents == before.refunded_cents
    stripe_says(gateway, DisputeStatus.WON, evidence_submissions=1)
    assert handle_event(svc, event("closed", 2))[0] == "dispute won"
    assert stored(store) is not None and stored(store).status is DisputeStatus.WON  # type: ignore[union-attr]


def test_a_duplicate_changes_nothing_and_is_told_apart(
    svc: Services, store: MemoryStore, gateway: FakeGateway
) -> None:
    paid(store, gateway)
    stripe_says(gateway, DisputeStatus.NEEDS_RESPONSE)
    assert handle_event(svc, event("created")) == ("dispute needs_response", True)
    assert handle_event(svc, event("created")) == ("no change", False)


@pytest.mark.parametrize("outcome", [DisputeStatus.WON, DisputeStatus.LOST])
def test_a_closed_dispute_stays_closed_whatever_a_later_read_says(
    svc: Services, store: MemoryStore, gateway: FakeGateway, outcome: DisputeStatus
) -> None:
    paid(store, gateway)
    stripe_says(gateway, outcome)
    handle_event(svc, event("closed"))
    for n, stale in enumerate((DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW), 2):
        stripe_says(gateway, stale)  # a read from before the close, late
        assert handle_event(svc, event("created", n))[0] == "no change"
    flipped = DisputeStatus.LOST if outcome is DisputeStatus.WON else DisputeStatus.WON
    stripe_says(gateway, flipped)
    assert handle_event(svc, event("updated", 9))[0] == "no change"
    asked = gateway.calls.count("get_dispute")
    assert handle_event(svc, event("closed", 10, pi="pi_1"))[0] == "no change"
    assert gateway.calls.count("get_dispute") == asked  # closed here: Stripe is not asked
    assert stored(store) is not None and stored(store).status is outcome  # type: ignore[union-attr]


def test_an_open_dispute_never_moves_back_but_takes_a_new_deadline(
    svc: Services, store: MemoryStore, gateway: FakeGateway
) -> None:
    paid(store, gateway)
    stripe_says(gateway, DisputeStatus.UNDER_REVIEW, evidence_submissions=1)
    handle_event(svc, event("updated"))
    stripe_says(gateway, DisputeStatus.NEEDS_RESPONSE)
    assert handle_event(svc, event("created", 2))[0] == "no change"
    later = T + timedelta(days=10)
    stripe_says(gateway, DisputeStatus.UNDER_REVIEW, evidence_submissions=1, evidence_due_by=later)
    assert handle_event(svc, event("updated", 3))[0] == "dispute under_review"
    assert stored(store) is not None and stored(store).evidence_due_by == later  # type: ignore[union-attr]


def test_an_inquiry_may_become_a_chargeback_and_a_new_dispute_follows_a_closed_one(
    svc: Services, store: MemoryStore, gateway: FakeGateway
) -> None:
    paid(store, gateway)
    stripe_says(gateway, DisputeStatus.WARNING_NEEDS_RESPONSE)
    handle_event(svc, event("created"))
    stripe_says(gateway, DisputeStatus.NEEDS_RESPONSE)
    assert handle_event(svc, event("updated", 2))[0] == "dispute needs_response"
    stripe_says(gateway, DisputeStatus.WARNING_CLOSED)
    handle_event(svc, event("closed", 3))
    newer = stripe_says(
        gateway, DisputeStatus.NEEDS_RESPONSE, dispute_id="dp_2", created_at=T + timedelta(1)
    )
    assert handle_event(svc, event("created", 4, "dp_2"))[0] == "dispute needs_response"
    assert stored(store) is not None and stored(store).dispute_id == newer.dispute_id  # type: ignore[union-attr]


def test_a_chargeback_whose_event_comes_before_the_inquirys_closing_is_kept(
    svc: Services, store: MemoryStore, gateway: FakeGateway
) -> None:
    """Stripe opens a chargeback after an inquiry; the chargeback's event arrives first, the
    inquiry's closing after it. The chargeback stands: the fan's entitlements stay suspended."""
    paid(store, gateway)
    stripe_says(gateway, DisputeStatus.WARNING_NEEDS_RESPONSE)
    handle_event(svc, event("created"))
    chargeback = stripe_says(
        gateway, DisputeStatus.NEEDS_RESPONSE, dispute_id="dp_2", created_at=T + timedelta(1)
    )
    assert handle_event(svc, event("created", 2, "dp_2"))[0] == "dispute needs_response"
    stripe_says(gateway, DisputeStatus.WARNING_CLOSED)  # the inquiry's closing, late
    assert handle_event(svc, event("closed", 3))[0] == "no change"
    kept = stored(store)
    assert kept is not None and kept.dispute_id == chargeback.dispute_id and kept.open


def test_a_purchase_without_its_intent_id_is_found_by_our_transaction_id(
    svc: Services, store: MemoryStore, gateway: FakeGateway
) -> None:
    paid(store, gateway, with_intent=False)
    stripe_says(gateway, DisputeStatus.NEEDS_RESPONSE)
    assert handle_event(svc, event("created"))[0] == "dispute needs_response"


def test_disputes_of_other_charges_and_events_without_ids_are_acknowledged(
    svc: Services, store: MemoryStore, gateway: FakeGateway
) -> None:
    gateway.intents["pi_1"] = PaymentIntentResult("pi_1", PaymentIntentStatus.SUCCEEDED, 1, "usd")
    stripe_says(gateway, DisputeStatus.NEEDS_RESPONSE)
    assert handle_event(svc, event("created"))[0] == "not ours"
    assert handle_event(svc, event("created", 2, ""))[0] == "ignored: no object id"


class MovingStore(MemoryStore):
    """Another writer settles the purchase between every read and write of ours."""

    def __init__(self, moves: int) -> None:
        super().__init__()
        self.moves = moves

    def settle_purchase(
        self, purchase: Purchase, expected: PurchaseStatus, *, read_at: datetime | None = None
    ) -> bool:
        if self.moves > 0:
            self.moves -= 1
            current = self.purchases[purchase.transaction_id]
            self.purchases[purchase.transaction_id] = replace(current, refunded_cents=100)
            return False
        return super().settle_purchase(purchase, expected, read_at=read_at)


def test_a_concurrent_writer_wins_and_the_dispute_is_written_on_top_of_its_change(
    svc: Services, gateway: FakeGateway
) -> None:
    svc.store = store = MovingStore(moves=2)
    paid(store, gateway)
    stripe_says(gateway, DisputeStatus.NEEDS_RESPONSE)
    assert handle_event(svc, event("created"))[0] == "dispute needs_response"
    assert store.purchases["tx-1"].refunded_cents == 100  # the other writer's change is kept
    svc.store = restless = MovingStore(moves=100)
    paid(restless, gateway)
    with pytest.raises(StoreError):  # not kept as processed: Stripe delivers it again
        handle_event(svc, event("created", 2))
    assert restless.record_event("evt_2", "charge.dispute.created", NOW)


@pytest.mark.parametrize(
    ("status", "refundable"),
    [
        (DisputeStatus.NEEDS_RESPONSE, False),
        (DisputeStatus.UNDER_REVIEW, False),
        (DisputeStatus.LOST, False),
        (DisputeStatus.WON, True),
    ],
)
def test_a_refund_is_refused_while_a_dispute_is_open_or_after_it_was_lost(
    svc: Services, store: MemoryStore, gateway: FakeGateway, status: DisputeStatus, refundable: bool
) -> None:
    paid(store, gateway)
    gateway.intents["pi_1"] = replace(gateway.intents["pi_1"], amount=25200)
    stripe_says(gateway, status)
    handle_event(svc, event("created"))
    if refundable:
        assert refund_purchase(svc, "tx-1").purchase.status is PurchaseStatus.REFUNDED
    else:
        with pytest.raises(BadRequest, match="dispute dp_1"):
            refund_purchase(svc, "tx-1")
        assert "refund" not in gateway.calls
