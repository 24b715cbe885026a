"""Dispute events as ``domain.events.events_for`` derives them: one ``purchase.disputed`` when a
dispute appears, one ``purchase.dispute_closed`` when it closes, each saying what happens to the
fan's entitlements; re-reads that change nothing report nothing."""

from __future__ import annotations

from dataclasses import replace

from couchpay.domain.disputes import Dispute, DisputeStatus
from couchpay.domain.events import EventType, events_for
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PurchaseStatus
from tests.contract.store_contract import T0, make_purchase

S = DisputeStatus
OPEN = Dispute("dp_1", "ch_1", 1000, "usd", "fraudulent", S.WARNING_NEEDS_RESPONSE, None, T0, T0)
PAID = make_purchase(status=PurchaseStatus.SUCCEEDED)


def _with(status: DisputeStatus, dispute_id: str = "dp_1") -> Purchase:
    return replace(PAID, dispute=replace(OPEN, dispute_id=dispute_id, status=status))


def _events(before: Purchase, after: Purchase) -> list[tuple[str, str, str]]:
    found = events_for(before, after, lambda _: None)
    return [(e.type.value, e.data["disputeStatus"], e.data["entitlements"]) for e in found]


def test_a_dispute_suspends_then_closes_won_or_lost() -> None:
    assert _events(PAID, _with(S.WARNING_NEEDS_RESPONSE)) == [
        ("purchase.disputed", "warning_needs_response", "suspended")
    ]
    assert _events(_with(S.WARNING_NEEDS_RESPONSE), _with(S.NEEDS_RESPONSE)) == []
    assert _events(_with(S.UNDER_REVIEW), _with(S.WON)) == [
        ("purchase.dispute_closed", "won", "active")
    ]
    assert _events(_with(S.UNDER_REVIEW), _with(S.LOST)) == [
        ("purchase.dispute_closed", "lost", "revoked")
    ]


def test_a_dispute_first_seen_closed_reports_both_in_order_and_repeats_report_nothing() -> None:
    assert _events(PAID, _with(S.LOST)) == [
        ("purchase.disputed", "lost", "revoked"),
        ("purchase.dispute_closed", "lost", "revoked"),
    ]
    assert _events(_with(S.LOST), _with(S.LOST)) == []


def test_a_second_dispute_of_the_charge_is_a_new_fact() -> None:
    first = events_for(PAID, _with(S.NEEDS_RESPONSE), lambda _: None)
    second = events_for(_with(S.WON), _with(S.NEEDS_RESPONSE, "dp_2"), lambda _: None)
    assert [e.type for e in second] == [EventType.PURCHASE_DISPUTED]
    assert first[0].event_id != second[0].event_id
