"""The card expiry job and Stripe's automatic card updates, over the in-memory store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from couchpay.domain.cards import Card, CardFacts
from couchpay.domain.errors import BadRequest, NotFound
from couchpay.domain.statuses import CardStatus
from couchpay.service.card_lifecycle import apply_card_update, expire_cards
from couchpay.service.context import Services
from tests.contract.store_contract import make_card
from tests.services import services
from tests.unit.fakes import FakeGateway, MemoryStore

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def svc(store: MemoryStore) -> Services:
    return services(store, FakeGateway(), now=lambda: NOW)


def card(store: MemoryStore, card_id: str, month: int, year: int, **changes: object) -> Card:
    c = make_card(
        card_id,
        exp_month=month,
        exp_year=year,
        card_token=f"pm_{card_id}",
        **({"fingerprint": f"fp_{card_id}"} | changes),  # one live card per fingerprint
    )
    store.add_card(c)
    return c


class Steps:
    def __init__(self) -> None:
        self.total: int | None = None
        self.done = 0

    def step(self, n: int = 1) -> None:
        self.done += n


def test_expire_marks_only_live_cards_past_their_month(svc: Services, store: MemoryStore) -> None:
    past = card(store, "past", 10, 2026)
    this_month = card(store, "this-month", 11, 2026)
    future = card(store, "future", 1, 2027)
    long_ago = card(store, "long-ago", 12, 2019)
    cancelled = card(store, "cancelled", 1, 2020, status=CardStatus.CANCELLED, active=False)
    failed = card(store, "failed", 1, 2020, status=CardStatus.FAIL_CHECKS)
    steps = Steps()

    summary = expire_cards(svc, steps)

    assert (summary.checked, summary.expired, summary.still_live) == (4, 2, 2)
    assert summary.month == "2026-11"
    assert steps.total == 4 and steps.done == 4
    for expired in (past, long_ago):
        stored = store.cards[expired.card_id]
        assert stored.status is CardStatus.EXPIRED
        assert stored.updated_at == NOW
        assert stored.active is True  # expiry is not deletion
    for untouched in (this_month, future, cancelled, failed):
        assert store.cards[untouched.card_id] == untouched


def test_expire_is_idempotent(svc: Services, store: MemoryStore) -> None:
    card(store, "past", 10, 2026)
    assert expire_cards(svc).expired == 1
    before = dict(store.cards)
    again = expire_cards(svc)
    assert (again.checked, again.expired) == (0, 0)
    assert store.cards == before


def test_a_card_deleted_while_the_job_runs_stays_deleted(svc: Services, store: MemoryStore) -> None:
    c = card(store, "past", 10, 2026)
    listed = list(store.cards_with_status(CardStatus.LIVE))
    store.update_card(c.cancelled(NOW))  # the user deletes it between the scan and the write
    store.cards_with_status = lambda status: iter(listed)  # type: ignore[method-assign]
    assert expire_cards(svc).expired == 0
    assert store.cards["past"].status is CardStatus.CANCELLED


def test_expire_one_card(svc: Services, store: MemoryStore) -> None:
    card(store, "past", 10, 2026)
    card(store, "other", 10, 2026)
    summary = expire_cards(svc, card_id="past")
    assert (summary.checked, summary.expired) == (1, 1)
    assert store.cards["other"].status is CardStatus.LIVE
    assert expire_cards(svc, card_id="past").expired == 0  # already expired: nothing to do


def test_expiring_a_deleted_or_unknown_card_is_refused_and_changes_nothing(
    svc: Services, store: MemoryStore
) -> None:
    card(store, "gone", 1, 2020, status=CardStatus.CANCELLED, active=False)
    card(store, "bad", 1, 2020, status=CardStatus.ERROR)
    before = dict(store.cards)
    with pytest.raises(BadRequest, match="was deleted"):
        expire_cards(svc, card_id="gone")
    with pytest.raises(BadRequest, match="never usable"):
        expire_cards(svc, card_id="bad")
    with pytest.raises(NotFound, match="No card with id 'nope'"):
        expire_cards(svc, card_id="nope")
    assert store.cards == before


def facts_for(c: Card, **changes: object) -> CardFacts:
    base = CardFacts(c.card_token, c.fingerprint, c.brand, c.last_four, c.exp_month, c.exp_year)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_automatic_update_revives_an_expired_card_and_refreshes_it(
    svc: Services, store: MemoryStore
) -> None:
    old = card(store, "renewed", 10, 2026, status=CardStatus.EXPIRED)
    [updated] = apply_card_update(
        svc, facts_for(old, exp_month=10, exp_year=2030, last_four="1881", brand="mastercard")
    )
    stored = store.cards["renewed"]
    assert stored == updated
    assert stored.status is CardStatus.LIVE
    assert (stored.exp_month, stored.exp_year, stored.last_four, stored.brand) == (
        10,
        2030,
        "1881",
        "mastercard",
    )
    assert stored.updated_at == NOW
    assert stored.usable(NOW)


def test_automatic_update_never_revives_deleted_or_failed_cards(
    svc: Services, store: MemoryStore
) -> None:
    cancelled = card(store, "c", 10, 2026, status=CardStatus.CANCELLED, active=False)
    store.add_card(replace(cancelled, card_id="e", status=CardStatus.ERROR, active=True))
    store.add_card(replace(cancelled, card_id="f", status=CardStatus.FAIL_CHECKS, active=True))
    updated = apply_card_update(svc, facts_for(cancelled, exp_year=2030, last_four="1881"))
    assert [c.card_id for c in updated] == ["c", "e", "f"]
    for c in updated:
        assert store.cards[c.card_id].status in (
            CardStatus.CANCELLED,
            CardStatus.ERROR,
            CardStatus.FAIL_CHECKS,
        )
        assert store.cards[c.card_id].last_four == "1881"  # the facts are still kept current
    assert store.cards["c"].active is False


def test_automatic_update_never_gives_a_removed_card_a_name_again(
    svc: Services, store: MemoryStore
) -> None:
    """`users forget` erased the name on a cancelled card; Stripe's detached PaymentMethod still
    has its billing name, and a late `payment_method.automatically_updated` carries it."""
    forgotten = card(store, "c", 10, 2026, status=CardStatus.CANCELLED, active=False)
    store.update_card(replace(forgotten, name_on_card=None))
    facts = replace(facts_for(forgotten, exp_year=2030), name_on_card="Ada Lovelace")
    apply_card_update(svc, facts)
    assert store.cards["c"].name_on_card is None and store.cards["c"].exp_year == 2030


def test_automatic_update_with_an_expiry_still_past_keeps_the_card_expired(
    svc: Services, store: MemoryStore
) -> None:
    old = card(store, "x", 10, 2026, status=CardStatus.EXPIRED)
    [updated] = apply_card_update(svc, facts_for(old, exp_month=9, exp_year=2026))
    assert updated.status is CardStatus.EXPIRED


def test_automatic_update_of_a_live_card_and_of_an_unknown_token(
    svc: Services, store: MemoryStore
) -> None:
    live = card(store, "live", 1, 2027)
    [updated] = apply_card_update(svc, facts_for(live, exp_year=2031, last_four="0005"))
    assert updated.status is CardStatus.LIVE and updated.exp_year == 2031
    assert apply_card_update(svc, facts_for(live)) == [store.cards["live"]]  # same again
    before = dict(store.cards)
    assert apply_card_update(svc, replace(facts_for(live), payment_method_id="pm_unknown")) == []
    assert store.cards == before


def test_a_repeated_update_writes_nothing(svc: Services, store: MemoryStore) -> None:
    live = card(store, "live", 1, 2027)
    apply_card_update(svc, facts_for(live, exp_year=2031))
    first = store.cards["live"]
    later = services(store, FakeGateway(), now=lambda: NOW.replace(day=23))
    apply_card_update(later, facts_for(live, exp_year=2031))
    assert store.cards["live"] == first  # updated_at not bumped by a duplicate webhook
