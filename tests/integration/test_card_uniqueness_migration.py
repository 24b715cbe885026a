"""Schema migration 4 on a database written before it: duplicate live cards (what concurrent
saves of one card used to leave) are reduced to the oldest, the others cancelled (kept, never
deleted), a default that pointed at a cancelled duplicate moves to the kept card, and from then
on the database itself refuses a second live card per (user, fingerprint)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from couchpay.adapters import sqlite_rows as rows
from couchpay.adapters.sqlite_schema import MIGRATIONS
from couchpay.adapters.sqlite_store import INSERT_CARD, SqliteStore
from couchpay.ports.store import LiveCardExists
from couchpay.ports.stored_keys import dt_out
from tests.contract.store_contract import T0, make_card


def test_duplicates_written_before_are_reduced_to_one_live_card(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # the schema as version 2 left it
        db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
        for number, statements in enumerate(MIGRATIONS[:2], start=1):
            for statement in statements:
                db.execute(statement)
            db.execute("INSERT INTO schema_version VALUES (?, 'then')", (number,))
        db.execute("INSERT INTO users VALUES ('alice', 'cus_alice', 'dup-2', ?)", (dt_out(T0),))
        for i in range(3):
            card = make_card(f"dup-{i}", card_token=f"pm_{i}", created_at=T0 + timedelta(i))
            db.execute(INSERT_CARD, rows.to_params(card))
        other = make_card("other", card_token="pm_other", fingerprint="fp_other")
        db.execute(INSERT_CARD, rows.to_params(other))

    store = SqliteStore(path)
    try:
        cards = {c.card_id: (c.active, c.status.value) for c in store.list_cards("alice")}
        assert cards == {
            "dup-0": (True, "live"),
            "dup-1": (False, "cancelled"),
            "dup-2": (False, "cancelled"),
            "other": (True, "live"),
        }
        user = store.get_user("alice")
        assert user is not None and user.default_card_id == "dup-0"
        with pytest.raises(LiveCardExists) as clash:
            store.add_card(make_card("dup-3", card_token="pm_3"))
        assert clash.value.card_id == "dup-0"
    finally:
        store.close()
