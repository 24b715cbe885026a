"""Entitlements: the pure rules (domain.entitlements) and the paging of get-user-entitlements."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from couchpay.domain.catalog import DEMO_CATALOG, CatalogItem, ItemKind
from couchpay.domain.disputes import Dispute, DisputeStatus
from couchpay.domain.entitlements import EntitlementStatus, entitlements
from couchpay.domain.purchases import Purchase, PurchaseLine
from couchpay.domain.statuses import PurchaseStatus
from couchpay.service import entitlements as paging
from couchpay.service.context import Services
from couchpay.service.entitlements import entitlements_page
from couchpay.wire.asyncapi.checks import validate_reply
from couchpay.wire.protocol import handle_frame
from tests.contract.store_contract import make_purchase
from tests.unit.fakes import MemoryStore

T = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
STREAM, MEET, POSTER = DEMO_CATALOG
CATALOG = {i.item_id: i for i in DEMO_CATALOG}
OPEN = (
    DisputeStatus.WARNING_NEEDS_RESPONSE,
    DisputeStatus.WARNING_UNDER_REVIEW,
    DisputeStatus.NEEDS_RESPONSE,
    DisputeStatus.UNDER_REVIEW,
)
GIVEN_BACK = (
    DisputeStatus.WON,
    DisputeStatus.WARNING_CLOSED,
    DisputeStatus.PREVENTED,
    DisputeStatus.CHARGE_REFUNDED,
)


def dispute(status: DisputeStatus) -> Dispute:
    return Dispute("dp_1", "ch_1", 19200, "usd", "fraudulent", status, T, T, T)


def bought(tx: str = "tx-1", at: datetime = T, **changes: Any) -> Purchase:
    lines = tuple(
        PurchaseLine(i.item_id, i.name, i.price_cents, q, i.shipping_cents)
        for i, q in ((STREAM, 1), (MEET, 2), (POSTER, 3))
    )
    base = make_purchase(tx, f"req-{tx}", "fan", items=lines, created_at=at, updated_at=at)
    return replace(base, **({"status": PurchaseStatus.SUCCEEDED} | changes))


def test_a_paid_purchase_entitles_to_each_line_with_its_kind_quantity_and_show_time() -> None:
    found = entitlements([bought()], CATALOG)
    assert [(e.item_id, e.kind, e.quantity) for e in found] == [
        (STREAM.item_id, ItemKind.LIVESTREAM, 1),
        (MEET.item_id, ItemKind.MEET_AND_GREET, 2),
        (POSTER.item_id, ItemKind.MERCH, 3),
    ]
    assert {e.status for e in found} == {EntitlementStatus.ACTIVE}
    assert {e.transaction_id for e in found} == {"tx-1"}
    assert [e.show_starts_at for e in found] == [STREAM.show_starts_at, None, None]
    assert found[0].purchased_at == T and found[0].name == "Livestream ticket"


@pytest.mark.parametrize(
    "status",
    [s for s in PurchaseStatus if s is not PurchaseStatus.SUCCEEDED],
)
def test_only_a_paid_purchase_entitles_and_a_full_refund_revokes(status: PurchaseStatus) -> None:
    assert entitlements([bought(status=status)], CATALOG) == []


def test_a_partial_refund_changes_nothing() -> None:
    found = entitlements([bought(refunded_cents=500)], CATALOG)
    assert [e.status for e in found] == [EntitlementStatus.ACTIVE] * 3


@pytest.mark.parametrize("status", OPEN)
def test_an_open_dispute_suspends(status: DisputeStatus) -> None:
    found = entitlements([bought(dispute=dispute(status))], CATALOG)
    assert [e.status for e in found] == [EntitlementStatus.SUSPENDED] * 3


@pytest.mark.parametrize("status", GIVEN_BACK)
def test_a_won_or_harmless_closed_dispute_gives_it_back(status: DisputeStatus) -> None:
    found = entitlements([bought(dispute=dispute(status))], CATALOG)
    assert [e.status for e in found] == [EntitlementStatus.ACTIVE] * 3


def test_a_lost_dispute_revokes_and_a_refund_after_a_won_one_still_revokes() -> None:
    assert entitlements([bought(dispute=dispute(DisputeStatus.LOST))], CATALOG) == []
    won_then_refunded = bought(dispute=dispute(DisputeStatus.WON), status=PurchaseStatus.REFUNDED)
    assert entitlements([won_then_refunded], CATALOG) == []


def test_show_times_come_from_the_catalog_as_it_is_now_and_unknown_items_are_left_out() -> None:
    moved = T + timedelta(days=30)
    catalog: dict[str, CatalogItem] = {
        STREAM.item_id: replace(STREAM, show_starts_at=moved, active=False),
        POSTER.item_id: POSTER,
    }
    found = entitlements([bought()], catalog)
    assert [(e.item_id, e.show_starts_at) for e in found] == [
        (STREAM.item_id, moved),
        (POSTER.item_id, None),
    ]


# --- paging ----------------------------------------------------------------------------------
def history(store: MemoryStore, *purchases: Purchase) -> None:
    for p in purchases:
        store.purchases[p.transaction_id] = p
    for item in DEMO_CATALOG:
        store.put_item(item)


def pages(svc: Services, limit: int, **kw: Any) -> list[list[str]]:
    found, cursor = [], None
    while True:
        page, cursor = entitlements_page(svc, "fan", limit, cursor, **kw)
        found.append([f"{e.transaction_id}:{e.kind.value}" for e in page])
        if cursor is None:
            return found


def test_pages_go_newest_first_never_split_a_purchase_and_end_with_a_null_cursor(
    svc: Services, store: MemoryStore
) -> None:
    history(
        store,
        bought("tx-old", T),
        bought("tx-failed", T + timedelta(minutes=1), status=PurchaseStatus.FAILED),
        bought("tx-new", T + timedelta(minutes=2)),
    )
    kinds = ["livestream", "meet_and_greet", "merch"]
    assert pages(svc, 4) == [[f"tx-new:{k}" for k in kinds], [f"tx-old:{k}" for k in kinds]]
    assert pages(svc, 100) == [[f"tx-new:{k}" for k in kinds] + [f"tx-old:{k}" for k in kinds]]
    assert pages(svc, 1) == pages(svc, 4)  # one purchase's three are one page


def test_a_long_run_of_unpaid_purchases_gives_short_pages_with_a_cursor(
    svc: Services, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paging, "MAX_SCANNED", 10)
    monkeypatch.setattr(paging, "SCAN_BATCH", 4)
    failed = [
        bought(f"tx-f{n:02}", T + timedelta(minutes=n), status=PurchaseStatus.FAILED)
        for n in range(1, 25)
    ]
    history(store, bought("tx-first", T), *failed)
    found = pages(svc, 50)
    assert found[-1] == [f"tx-first:{k}" for k in ("livestream", "meet_and_greet", "merch")]
    assert all(page == [] for page in found[:-1]) and len(found) > 1


def test_pages_are_bounded_in_bytes_too(svc: Services, store: MemoryStore) -> None:
    history(store, *[bought(f"tx-{n}", T + timedelta(minutes=n)) for n in range(5)])
    one = len(pages(svc, 100, size_of=lambda e: 100, max_bytes=10_000)[0])
    assert one == 15
    small = pages(svc, 100, size_of=lambda e: 100, max_bytes=700)  # two purchases' worth
    assert [len(p) for p in small] == [6, 6, 3]


def test_over_the_socket_the_reply_matches_its_model_and_bad_cursors_are_refused(
    svc: Services, store: MemoryStore
) -> None:
    history(store, bought())
    frame = {"action": "get-user-entitlements", "message": {"limit": 5}, "requestId": "e1"}
    reply = handle_frame(svc, "fan", json.dumps(frame))
    validate_reply(json.dumps(reply))
    assert reply["action"] == "get-user-entitlements-resp-success"
    assert [e["kind"] for e in reply["message"]["entitlements"]] == [
        "livestream",
        "meet_and_greet",
        "merch",
    ]
    assert reply["message"]["entitlements"][0]["showStartsAt"] == "2027-03-14T20:00:00+00:00"
    assert handle_frame(svc, "someone-else", json.dumps(frame))["message"]["entitlements"] == []
    bad = {**frame, "message": {"cursor": "not-a-cursor"}}
    refused = handle_frame(svc, "fan", json.dumps(bad))
    assert refused["action"] == "get-user-entitlements-resp-failure"
    assert refused["message"]["code"] == "bad_request"
    too_many = {**frame, "message": {"limit": 101}}
    assert handle_frame(svc, "fan", json.dumps(too_many))["action"] == "error"
