from datetime import UTC, datetime

from couchpay.domain.cards import Card, wallet_order
from couchpay.domain.statuses import CardStatus, PurchaseStatus, can_move

P = PurchaseStatus
NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_purchases_only_move_forward() -> None:
    assert can_move(P.PENDING, P.SUCCEEDED)
    assert can_move(P.PENDING, P.REQUIRES_ACTION)
    assert can_move(P.REQUIRES_ACTION, P.SUCCEEDED)
    assert can_move(P.REQUIRES_ACTION, P.FAILED)
    assert can_move(P.SUCCEEDED, P.REFUNDED)
    assert not can_move(P.SUCCEEDED, P.REQUIRES_ACTION)
    assert not can_move(P.SUCCEEDED, P.FAILED)
    assert not can_move(P.FAILED, P.SUCCEEDED)
    assert not can_move(P.REFUNDED, P.SUCCEEDED)
    assert not can_move(P.REQUIRES_ACTION, P.PENDING)


def test_settled_statuses() -> None:
    assert {s for s in P if s.settled} == {P.SUCCEEDED, P.FAILED, P.CANCELED, P.REFUNDED}


def card(card_id: str, month: int, year: int, created_day: int, **kw: object) -> Card:
    created = datetime(2026, 1, created_day, tzinfo=UTC)
    return Card(
        card_id,
        "u",
        "cus",
        f"pm_{card_id}",
        f"fp_{card_id}",
        "visa",
        "4242",
        month,
        year,
        None,
        created,
        created,
        **kw,  # type: ignore[arg-type]
    )


def test_a_card_is_good_through_its_expiry_month() -> None:
    assert card("a", 11, 2026, 1).effective_status(NOW) is CardStatus.LIVE
    assert card("a", 10, 2026, 1).effective_status(NOW) is CardStatus.EXPIRED
    assert not card("a", 10, 2026, 1).usable(NOW)
    assert card("a", 1, 2027, 1).usable(NOW)


def test_wallet_lists_usable_cards_default_first_then_newest() -> None:
    cards = [
        card("old", 12, 2030, 1),
        card("new", 12, 2030, 9),
        card("default", 12, 2030, 5),
        card("expired", 1, 2020, 10),
        card("deleted", 12, 2030, 11, active=False, status=CardStatus.CANCELLED),
        card("declined", 12, 2030, 12, status=CardStatus.ERROR),
    ]
    assert [c.card_id for c in wallet_order(cards, "default", NOW)] == ["default", "new", "old"]


def test_a_queued_purchase_goes_to_stripe_or_fails_never_back() -> None:
    assert can_move(P.QUEUED, P.PENDING)
    assert can_move(P.QUEUED, P.FAILED)
    assert not can_move(P.PENDING, P.QUEUED)
    assert not P.QUEUED.settled
    assert P.QUEUED.holds_units and P.SUCCEEDED.holds_units
    assert not P.FAILED.holds_units and not P.CANCELED.holds_units
