"""Cards over time: the daily expiry job, and Stripe's automatic card updates.

A card is good through the last day of its expiry month. ``expire_cards`` records what the
calendar already implies (``live`` -> ``expired``); ``apply_card_update`` takes Stripe's word
(``payment_method.automatically_updated``) for a renewed card's new expiry and last four, and
brings an ``expired`` card back to ``live`` when its new expiry is not past. Cards that were
deleted (``cancelled``) or never became usable (``error``, ``fail_checks``) are never revived.

The store has no conditional write for cards, so each card is re-read right before it is
written: a card deleted while the job runs stays deleted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from couchpay.domain.cards import Card, CardFacts
from couchpay.domain.errors import BadRequest, NotFound
from couchpay.domain.statuses import CardStatus
from couchpay.service.context import Services


class ProgressSink(Protocol):
    """What the job reports progress to (``entrypoints.progress.Progress`` fits)."""

    total: int | None

    def step(self, n: int = 1) -> None: ...


@dataclass(frozen=True)
class ExpireSummary:
    month: str
    """The month the job ran in (YYYY-MM): cards whose expiry month is before it expire."""
    checked: int
    """Live cards looked at."""
    expired: int
    """Cards this run marked expired."""

    @property
    def still_live(self) -> int:
        return self.checked - self.expired

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stillLive": self.still_live}

    def line(self) -> str:
        return (
            f"cards expire ({self.month}): checked {self.checked} live card(s), "
            f"marked {self.expired} expired, {self.still_live} still live"
        )


def expire_cards(
    svc: Services, progress: ProgressSink | None = None, card_id: str | None = None
) -> ExpireSummary:
    """Mark ``live`` cards past their expiry month ``expired``. Idempotent: run twice, the
    second run changes nothing. With ``card_id``, only that card (it must exist and be live
    or already expired)."""
    now = svc.now()
    cards: Iterable[Card]
    if card_id is not None:
        cards = [_one_card(svc, card_id)]
    else:
        cards = svc.store.cards_with_status(CardStatus.LIVE)
    if progress is not None:  # one counting pass (keyset pages), rather than all in memory
        progress.total = 1 if card_id is not None else _count_live(svc)
    checked = expired = 0
    for card in cards:
        if card.status is CardStatus.LIVE:
            checked += 1
            expired += _expire_one(svc, card.card_id, now)
        if progress is not None:
            progress.step()
    return ExpireSummary(f"{now.year:04d}-{now.month:02d}", checked, expired)


def _count_live(svc: Services) -> int:
    return sum(1 for _ in svc.store.cards_with_status(CardStatus.LIVE))


def _one_card(svc: Services, card_id: str) -> Card:
    card = svc.store.get_card(card_id)
    if card is None:
        raise NotFound(f"No card with id {card_id!r}.")
    if not card.active or card.status is CardStatus.CANCELLED:
        raise BadRequest(
            f"Card {card_id} was deleted (status {card.status.value}); deleted cards are "
            "kept as they are and never expired."
        )
    if card.status not in (CardStatus.LIVE, CardStatus.EXPIRED):
        raise BadRequest(
            f"Card {card_id} has status {card.status.value}: it was never usable, "
            "so it is not expired."
        )
    return card


def _expire_one(svc: Services, card_id: str, now: datetime) -> int:
    card = svc.store.get_card(card_id)  # fresh: the user may have deleted it meanwhile
    if card is None or not card.active or card.status is not CardStatus.LIVE:
        return 0
    if not card.is_expired(now):
        return 0
    svc.store.update_card(replace(card, status=CardStatus.EXPIRED, updated_at=now))
    return 1


def apply_card_update(svc: Services, facts: CardFacts) -> list[Card]:
    """``payment_method.automatically_updated``: Stripe renewed or replaced the card behind a
    PaymentMethod. Every card stored for it gets the new expiry, last four and brand; an
    ``expired`` card whose new expiry is not past is ``live`` again. A removed card (deleted by
    the fan, detached, or its owner forgotten) keeps its facts current but never takes a name
    from Stripe: an erased name stays erased. Returns the cards as stored afterwards (unchanged
    ones are not written again)."""
    now = svc.now()
    result = []
    for stale in svc.store.find_cards_by_token(facts.payment_method_id):
        card = svc.store.get_card(stale.card_id) or stale
        name = (facts.name_on_card or card.name_on_card) if card.active else card.name_on_card
        updated = replace(
            card,
            brand=facts.brand or card.brand,
            last_four=facts.last_four or card.last_four,
            exp_month=facts.exp_month,
            exp_year=facts.exp_year,
            name_on_card=name,
        )
        if updated.status is CardStatus.EXPIRED and updated.active and not updated.is_expired(now):
            updated = replace(updated, status=CardStatus.LIVE)
        elif updated.status is CardStatus.LIVE and updated.is_expired(now):
            updated = replace(updated, status=CardStatus.EXPIRED)
        if updated != card:
            updated = replace(updated, updated_at=now)
            svc.store.update_card(updated)
        result.append(updated)
    return result
