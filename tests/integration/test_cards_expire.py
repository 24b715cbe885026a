"""`couchpay cards expire`, its Lambda twin and `payment_method.automatically_updated` handling,
on a real SQLite database; and `couchpay config`, which never prints a secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from couchpay.adapters.sqlite_store import SqliteStore
from couchpay.domain.cards import Card, CardFacts
from couchpay.domain.statuses import CardStatus
from couchpay.entrypoints import aws_jobs
from couchpay.entrypoints.cli import main
from couchpay.service.card_lifecycle import apply_card_update
from tests.contract.store_contract import make_card
from tests.services import services
from tests.unit.fakes import FakeGateway

TODAY = datetime.now(UTC)
THIS_MONTH = (TODAY.month, TODAY.year)
LAST_MONTH = (12, TODAY.year - 1) if TODAY.month == 1 else (TODAY.month - 1, TODAY.year)
NEXT_YEAR = (TODAY.month, TODAY.year + 1)


@pytest.fixture
def store(data_dir: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(data_dir / "couchpay.sqlite3")
    yield s
    s.close()


def add(store: SqliteStore, card_id: str, month_year: tuple[int, int], **changes: object) -> Card:
    month, year = month_year
    card = make_card(
        card_id,
        exp_month=month,
        exp_year=year,
        card_token=f"pm_{card_id}",
        **({"fingerprint": f"fp_{card_id}"} | changes),  # one live card per fingerprint
    )
    store.ensure_user(card.user_id, card.created_at)  # cards belong to a user
    store.add_card(card)
    return card


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def statuses(store: SqliteStore) -> dict[str, tuple[CardStatus, bool]]:
    cards = [c for user in ("alice", "bob") for c in store.list_cards(user)]
    return {c.card_id: (c.status, c.active) for c in cards}


@pytest.fixture
def wallet(store: SqliteStore) -> dict[str, Card]:
    return {
        "past": add(store, "past", LAST_MONTH),
        "old": add(store, "old", (1, 2020), user_id="bob"),
        "current": add(store, "current", THIS_MONTH),
        "future": add(store, "future", NEXT_YEAR),
        "deleted": add(store, "deleted", (1, 2020), status=CardStatus.CANCELLED, active=False),
        "failed": add(store, "failed", (1, 2020), status=CardStatus.FAIL_CHECKS),
    }


def test_expire_marks_past_cards_and_is_idempotent(
    store: SqliteStore, wallet: dict[str, Card], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "cards", "expire")
    assert code == 0
    assert out.strip().endswith("checked 4 live card(s), marked 2 expired, 2 still live")
    assert "expiring cards" in err  # the progress bar's last state
    assert statuses(store) == {
        "past": (CardStatus.EXPIRED, True),
        "old": (CardStatus.EXPIRED, True),
        "current": (CardStatus.LIVE, True),
        "future": (CardStatus.LIVE, True),
        "deleted": (CardStatus.CANCELLED, False),
        "failed": (CardStatus.FAIL_CHECKS, True),
    }
    assert store.get_card("deleted") == wallet["deleted"]
    assert store.get_card("current") == wallet["current"]
    expired = store.get_card("past")
    assert expired is not None and expired.updated_at > wallet["past"].updated_at

    before = [store.get_card(c) for c in wallet]
    code, out, _ = cli(capsys, "cards", "expire", "--json")
    assert code == 0
    assert json.loads(out) == {
        "month": f"{TODAY.year:04d}-{TODAY.month:02d}",
        "checked": 2,
        "expired": 0,
        "stillLive": 2,
    }
    assert [store.get_card(c) for c in wallet] == before


def test_expiring_a_deleted_or_unknown_card_is_refused(
    store: SqliteStore, wallet: dict[str, Card], capsys: pytest.CaptureFixture[str]
) -> None:
    before = statuses(store)
    code, out, err = cli(capsys, "cards", "expire", "--card", "deleted")
    assert code == 1 and out == ""
    assert err.startswith("couchpay: Card deleted was deleted (status cancelled)")
    code, _, err = cli(capsys, "cards", "expire", "--card", "no-such-card")
    assert code == 1 and err.startswith("couchpay: No card with id 'no-such-card'")
    assert statuses(store) == before
    assert store.get_card("deleted") == wallet["deleted"]

    code, out, _ = cli(capsys, "cards", "expire", "--card", "past")
    assert code == 0 and "marked 1 expired" in out
    assert statuses(store)["old"] == (CardStatus.LIVE, True)  # only the card asked for


def test_expire_as_a_separate_process(store: SqliteStore, data_dir: Path) -> None:
    add(store, "past", LAST_MONTH)
    env = {**os.environ, "COUCHPAY_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "couchpay.entrypoints.cli", "cards", "expire"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "marked 1 expired" in done.stdout
    assert "expiring cards" in done.stderr
    assert statuses(store)["past"] == (CardStatus.EXPIRED, True)


def test_the_lambda_job_runs_the_same_expiry(
    store: SqliteStore, wallet: dict[str, Card], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aws_jobs, "_services", None)
    try:
        assert aws_jobs.expire_cards({"source": "aws.events"}, None) == {
            "month": f"{TODAY.year:04d}-{TODAY.month:02d}",
            "checked": 4,
            "expired": 2,
            "stillLive": 2,
        }
        assert aws_jobs.expire_cards({}, None)["expired"] == 0  # a retried invocation
    finally:
        if aws_jobs._services is not None:
            aws_jobs._services.store.close()
    assert statuses(store)["past"] == (CardStatus.EXPIRED, True)


def test_automatic_update_revives_a_renewed_card_on_sqlite(store: SqliteStore) -> None:
    expired = add(store, "renewed", LAST_MONTH, status=CardStatus.EXPIRED)
    cancelled = add(store, "gone", LAST_MONTH, status=CardStatus.CANCELLED, active=False)
    store.update_card(replace(cancelled, card_token=expired.card_token))
    svc = services(store, FakeGateway())
    facts = CardFacts(expired.card_token, expired.fingerprint, "visa", "1881", 9, TODAY.year + 3)
    updated = {c.card_id: c for c in apply_card_update(svc, facts)}
    assert set(updated) == {"renewed", "gone"}
    revived = store.get_card("renewed")
    assert revived is not None and revived == updated["renewed"]
    assert (revived.status, revived.last_four, revived.exp_year) == (
        CardStatus.LIVE,
        "1881",
        TODAY.year + 3,
    )
    assert revived.usable(TODAY)
    gone = store.get_card("gone")
    assert gone is not None and (gone.status, gone.active) == (CardStatus.CANCELLED, False)


# --- couchpay config ----------------------------------------------------------------------------
SECRETS = {
    "STRIPE_SECRET_KEY": "sk_test_secret123",
    "STRIPE_WEBHOOK_SECRET": "whsec_hush456",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_public789",
    "COUCHPAY_EVENTS_SECRET": "whsec_feed_shh321",
}


def test_config_shows_the_pricing_and_never_a_secret(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COUCHPAY_CURRENCY", "EUR")
    monkeypatch.setenv("COUCHPAY_STREAMING_RATE", "12.5%")
    monkeypatch.setenv("STRIPE_API_BASE", "https://operator:pa55word@stripe.example/?k=tok999")
    monkeypatch.setenv("COUCHPAY_EVENTS_URLS", "https://stream.example/hook?token=feedtok77")
    code, out, err = cli(capsys, "config")
    assert code == 0
    code_json, out_json, _ = cli(capsys, "config", "--json")
    assert code_json == 0
    for text in (out, err, out_json):
        for secret in (
            *SECRETS.values(),
            "secret123",
            "hush456",
            "public789",
            "pa55word",
            "tok999",
            "shh321",
            "feedtok77",
        ):
            assert secret not in text
    assert "currency" in out and "eur" in out and "12.5%" in out
    assert "real Stripe (test key set)" in out
    assert str(data_dir) in out
    shown = json.loads(out_json)
    assert shown["currency"] == "eur"
    assert shown["streamingRate"] == "12.5%"
    assert shown["stripeSecretKey"] == "set" and shown["stripeWebhookSecret"] == "set"
    assert shown["database"] == f"sqlite:///{data_dir / 'couchpay.sqlite3'}"
    assert shown["identity"].startswith("none")  # a Stripe key turns local sign-in off (SPEC)
    assert shown["eventsSecret"] == "set"
    assert shown["eventEndpoints"] == "https://stream.example/hook?***"
    monkeypatch.setenv("COUCHPAY_DEV_SIGN_IN", "1")  # a test key may opt in
    assert json.loads(cli(capsys, "config", "--json")[1])["identity"].startswith("local dev")


def test_config_offline_defaults(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "config", "--json")
    shown = json.loads(out)
    assert code == 0
    assert shown["currency"] == "usd" and shown["streamingRate"] == "10%"
    assert shown["stripe"].startswith("offline")
    assert shown["stripeSecretKey"] == "not set"


def test_config_as_a_separate_process(data_dir: Path) -> None:
    env = {**os.environ, "COUCHPAY_DATA_DIR": str(data_dir), **SECRETS}
    done = subprocess.run(
        [sys.executable, "-m", "couchpay.entrypoints.cli", "config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "streaming rate" in done.stdout
    for secret in SECRETS.values():
        assert secret not in done.stdout + done.stderr
