"""One live card per (user, fingerprint) on SQLite: the partial unique index
``cards_one_live_per_fingerprint`` (schema migration 4) refuses a second one, whatever the
concurrency; ``live_card_unique`` turns that refusal into the port's ``LiveCardExists``,
naming the card that holds the fingerprint."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from couchpay.domain.cards import Card
from couchpay.ports.store import LiveCardExists


@contextmanager
def live_card_unique(conn: Callable[[], sqlite3.Connection], card: Card) -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if "cards.user_id, cards.fingerprint" not in str(exc):
            raise
        found = (
            conn()
            .execute(
                "SELECT card_id FROM cards WHERE user_id = ? AND fingerprint = ?"
                " AND active = 1 AND status = 'live'",
                (card.user_id, card.fingerprint),
            )
            .fetchone()
        )
        raise LiveCardExists(found[0] if found else None) from exc
