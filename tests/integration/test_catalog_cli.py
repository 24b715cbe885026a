"""`couchpay catalog ...` on a real SQLite database (COUCHPAY_DATA_DIR=tmp), in-process through
the real `main`, and once as a separate process. Refusals answer `couchpay: <why>` on stderr
with exit code 1 and change nothing; purchase history never changes with the catalog."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from couchpay.adapters.sqlite_store import SqliteStore
from couchpay.domain.catalog import DEMO_CATALOG, CatalogItem
from couchpay.entrypoints.cli import main
from couchpay.wire.protocol import handle_frame
from tests.services import services
from tests.shipping import ADDRESS
from tests.unit.fakes import FakeGateway

LIVESTREAM, MEET, POSTER = DEMO_CATALOG
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    def cli(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return cli


@pytest.fixture
def store(data_dir: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(data_dir / "couchpay.sqlite3")
    yield s
    s.close()


def items(store: SqliteStore) -> list[CatalogItem]:
    return store.list_all_items()


def test_list_on_a_fresh_database_shows_the_demo_catalog(run: Run) -> None:
    code, out, err = run("catalog", "list")
    assert code == 0
    assert "demo catalog" in err
    for item in DEMO_CATALOG:
        assert item.item_id in out and item.name in out
    assert "100.00 USD" in out and "5.00 USD" in out
    code, out, _ = run("catalog", "list", "--json")
    listed = json.loads(out)
    assert [i["priceCents"] for i in listed] == [2000, 5000, 10000]
    assert listed[2] == {
        "itemId": POSTER.item_id,
        "name": "Tour poster",
        "kind": "merch",
        "priceCents": 10000,
        "shippingCents": 500,
        "active": True,
        "capacity": None,
        "description": POSTER.description,
        "showStartsAt": None,
    }
    assert listed[0]["showStartsAt"] == "2027-03-14T20:00:00+00:00"
    assert listed[0]["description"].startswith("The Midnight Owls, live")


def test_add_update_deactivate_activate(run: Run, store: SqliteStore) -> None:
    code, out, _ = run(
        "catalog",
        "add",
        "Tour hoodie",
        "--kind",
        "merch",
        "--price-cents",
        "4500",
        "--shipping-cents",
        "700",
        "--json",
    )
    assert code == 0
    added = json.loads(out)
    item_id = added["itemId"]
    assert added == {
        "itemId": item_id,
        "name": "Tour hoodie",
        "kind": "merch",
        "priceCents": 4500,
        "shippingCents": 700,
        "active": True,
        "capacity": None,
        "description": "",
        "showStartsAt": None,
    }
    assert store.get_item(item_id) is not None

    code, out, _ = run("catalog", "update", item_id, "--price-cents", "5000", "--name", "Hoodie")
    assert code == 0 and "updated" in out and "50.00 USD" in out
    stored = store.get_item(item_id)
    assert stored is not None
    assert (stored.name, stored.price_cents, stored.shipping_cents) == ("Hoodie", 5000, 700)

    code, out, _ = run("catalog", "deactivate", item_id)
    assert code == 0 and out.startswith(f"deactivated: {item_id}")
    code, out, _ = run("catalog", "deactivate", item_id)
    assert code == 0 and out.startswith("already inactive")
    code, out, _ = run("catalog", "list")
    [row] = [line for line in out.splitlines() if item_id in line]
    assert row.endswith("no (inactive)")
    assert item_id not in [i.item_id for i in store.list_items()]

    code, out, _ = run("catalog", "activate", item_id)
    assert code == 0 and out.startswith("activated")
    assert item_id in [i.item_id for i in store.list_items()]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("update", "no-such-id", "--price-cents", "100"), "No catalog item with id 'no-such-id'"),
        (("deactivate", "no-such-id"), "No catalog item with id 'no-such-id'"),
        (("activate", "no-such-id"), "No catalog item with id 'no-such-id'"),
        (("add", "Mug", "--kind", "merch", "--price-cents", "-5"), "price cannot be negative"),
        (
            ("update", POSTER.item_id, "--price-cents", "-1"),
            "price cannot be negative",
        ),
        (
            ("add", "Mug", "--kind", "merch", "--price-cents", "12.50"),
            "price must be a whole number of cents",
        ),
        (
            ("add", "Mug", "--kind", "merch", "--price-cents", "1500", "--shipping-cents", "x"),
            "shipping must be a whole number of cents",
        ),
        (
            ("add", "Mug", "--kind", "merch", "--price-cents", "100000000"),
            "at most 99999999",
        ),
        (("add", "TOUR poster", "--kind", "merch", "--price-cents", "100"), "already exists"),
        (("update", MEET.item_id, "--name", "livestream TICKET"), "already exists"),
        (
            (
                "add",
                "Encore stream",
                "--kind",
                "livestream",
                "--price-cents",
                "900",
                "--shipping-cents",
                "300",
            ),
            "livestream item is not shipped",
        ),
        (
            ("update", LIVESTREAM.item_id, "--shipping-cents", "300"),
            "livestream item is not shipped",
        ),
        (("add", " ", "--kind", "merch", "--price-cents", "100"), "name cannot be empty"),
        (("add", "x" * 81, "--kind", "merch", "--price-cents", "100"), "at most 80"),
    ],
)
def test_refusals_say_why_and_change_nothing(
    run: Run, store: SqliteStore, args: tuple[str, ...], message: str
) -> None:
    assert run("catalog", "list")[0] == 0  # the demo catalog is in
    before = items(store)
    code, out, err = run("catalog", *args)
    assert code == 1, (out, err)
    assert err.startswith("couchpay: ") and message in err, err
    assert "Traceback" not in err and out == ""
    assert items(store) == before


@pytest.mark.parametrize(
    "args",
    [
        ("add", "Mug", "--kind", "vinyl", "--price-cents", "100"),
        ("add", "Mug", "--price-cents", "100"),
        ("update", POSTER.item_id),
        ("frobnicate",),
    ],
)
def test_usage_errors_exit_2(run: Run, store: SqliteStore, args: tuple[str, ...]) -> None:
    assert run("catalog", "list")[0] == 0
    before = items(store)
    code, _, err = run("catalog", *args)
    assert code == 2 and err
    assert items(store) == before


# --- the catalog and purchase history -----------------------------------------------------------
@pytest.fixture
def shop(data_dir: Path, run: Run) -> Iterator[Callable[..., dict[str, Any]]]:
    """A fan's protocol handler on the same database the CLI changes (Stripe faked)."""
    assert run("catalog", "list")[0] == 0
    store = SqliteStore(data_dir / "couchpay.sqlite3")
    gateway = FakeGateway()
    svc = services(store, gateway)

    def call(action: str, message: dict[str, Any] | None = None, rid: str = "r") -> dict[str, Any]:
        frame = json.dumps({"action": action, "message": message or {}, "requestId": rid})
        return handle_frame(svc, "fan-1", frame)

    card = call("create-payment-method", {"stripePayment": gateway.card()})
    call.card_id = card["message"]["uuid"]  # type: ignore[attr-defined]
    yield call
    store.close()


def cart(*lines: tuple[CatalogItem, int]) -> list[dict[str, Any]]:
    return [{"item_id": i.item_id, "price_cents": price} for i, price in lines]


def test_a_price_change_never_changes_a_past_purchase(
    run: Run, shop: Callable[..., dict[str, Any]], store: SqliteStore
) -> None:
    card_id = shop.card_id  # type: ignore[attr-defined]
    demo = cart((LIVESTREAM, 2000), (MEET, 5000), (POSTER, 10000))
    paid = shop(
        "purchase-request",
        {"cardId": card_id, "items": demo, "shippingAddress": ADDRESS},
        rid="buy-1",
    )
    assert paid["action"] == "purchase-request-resp-success"
    assert paid["message"]["totalCents"] == 19200
    tx = paid["message"]["transactionId"]
    record = store.get_purchase(tx)
    history = shop("get-user-purchases")

    code, _, _ = run("catalog", "update", POSTER.item_id, "--price-cents", "12000")
    assert code == 0
    code, _, _ = run("catalog", "update", POSTER.item_id, "--name", "Signed tour poster")
    assert code == 0

    assert store.get_purchase(tx) == record
    assert shop("get-user-purchases") == history
    [line] = [
        li for li in history["message"]["purchases"][0]["items"] if li["name"] == "Tour poster"
    ]
    assert line["unitPriceCents"] == 10000
    assert (
        shop(
            "purchase-request",
            {"cardId": card_id, "items": demo, "shippingAddress": ADDRESS},
            rid="buy-1",
        )
        == paid
    )

    stale = shop(
        "purchase-request",
        {"cardId": card_id, "items": demo, "shippingAddress": ADDRESS},
        rid="buy-2",
    )
    assert stale["message"]["code"] == "price_mismatch"
    new = cart((LIVESTREAM, 2000), (MEET, 5000), (POSTER, 12000))
    repriced = shop(
        "purchase-request",
        {"cardId": card_id, "items": new, "shippingAddress": ADDRESS},
        rid="buy-3",
    )
    assert repriced["message"]["totalCents"] == 19000 + 1900 + 500


def test_a_deactivated_item_cannot_be_bought_but_stays_in_history(
    run: Run, shop: Callable[..., dict[str, Any]], store: SqliteStore
) -> None:
    card_id = shop.card_id  # type: ignore[attr-defined]
    poster = cart((POSTER, 10000))
    paid = shop(
        "purchase-request",
        {"cardId": card_id, "items": poster, "shippingAddress": ADDRESS},
        rid="buy-1",
    )
    assert paid["action"] == "purchase-request-resp-success"
    history = shop("get-user-purchases")

    assert run("catalog", "deactivate", POSTER.item_id)[0] == 0

    refused = shop(
        "purchase-request",
        {"cardId": card_id, "items": poster, "shippingAddress": ADDRESS},
        rid="buy-2",
    )
    assert refused["action"] == "purchase-request-resp-failure"
    assert refused["message"]["code"] == "item_unavailable"
    assert store.get_purchase_by_request("fan-1", "buy-2") is None
    items_on_sale = shop("get-items")["message"]["items"]
    assert POSTER.item_id not in [i["itemId"] for i in items_on_sale]
    after = shop("get-user-purchases")
    assert after == history
    assert after["message"]["purchases"][0]["items"][0]["name"] == "Tour poster"


def test_catalog_as_a_separate_process(data_dir: Path) -> None:
    env = {**os.environ, "COUCHPAY_DATA_DIR": str(data_dir)}
    cmd = [sys.executable, "-m", "couchpay.entrypoints.cli", "catalog"]
    added = subprocess.run(
        [*cmd, "add", "Backstage pass", "--kind", "meet_and_greet", "--price-cents", "7500"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added: ")
    refused = subprocess.run(
        [*cmd, "add", "backstage PASS", "--kind", "meet_and_greet", "--price-cents", "7500"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith("couchpay: An item named 'Backstage pass' already exists")
    listed = subprocess.run(
        [*cmd, "list", "--json"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    names = [i["name"] for i in json.loads(listed.stdout)]
    assert names.count("Backstage pass") == 1 and len(names) == 4


def test_capacity_limits_an_item_and_cannot_go_below_what_is_held(
    run: Run, store: SqliteStore
) -> None:
    code, out, _ = run(
        "catalog", "add", "Meet and greet, row 1", "--kind", "meet_and_greet",
        "--price-cents", "5000", "--capacity", "20", "--json",
    )  # fmt: skip
    assert code == 0
    added = json.loads(out)
    assert added["capacity"] == 20
    code, out, _ = run("catalog", "update", added["itemId"], "--capacity", "2", "--json")
    assert code == 0 and json.loads(out)["capacity"] == 2
    code, _, err = run("catalog", "update", added["itemId"], "--capacity", "two")
    assert code == 1 and "whole number" in err
    code, out, _ = run("catalog", "update", added["itemId"], "--unlimited", "--json")
    assert code == 0 and json.loads(out)["capacity"] is None
    item = store.get_item(added["itemId"])
    assert item is not None and item.capacity is None


@pytest.mark.parametrize(
    "args",
    [
        ("add", "Big", "--kind", "merch", "--price-cents", "100", "--shipping-cents", "9" * 23),
        ("add", "Big", "--kind", "merch", "--price-cents", "100", "--shipping-cents", "9" * 5000),
        ("add", "Big", "--kind", "merch", "--price-cents", "100", "--shipping-cents", "100000000"),
        ("add", "Big", "--kind", "merch", "--price-cents", "9" * 5000),
        ("add", "n" * 201, "--kind", "merch", "--price-cents", "100"),
    ],
)
def test_values_out_of_bounds_are_a_clean_refusal(args: tuple[str, ...], data_dir: Path) -> None:
    """Red-team finding 9: a huge shipping crashed with a traceback; shipping had no bound."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "COUCHPAY_"))}
    done = subprocess.run(
        [sys.executable, "-m", "couchpay.entrypoints.cli", "catalog", *args],
        env=env | {"COUCHPAY_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert all(line.startswith("couchpay: ") for line in lines)  # no traceback, one line each
    assert "at most" in lines[-1] and len(lines[-1]) < 200
    assert "Traceback" not in done.stderr
    store = SqliteStore(data_dir / "couchpay.sqlite3")
    assert all(i.name != "Big" for i in store.list_all_items())
    store.close()


def test_description_and_show_start(
    run: Run, shop: Callable[..., dict[str, Any]], store: SqliteStore
) -> None:
    code, out, err = run(
        "catalog",
        "add",
        "Encore night",
        "--kind",
        "livestream",
        "--price-cents",
        "1500",
        "--description",
        "  The encore set, live from Brixton.  ",
        "--show-starts-at",
        "2027-04-01T21:30:00+02:00",
        "--json",
    )
    assert code == 0, err
    added = json.loads(out)
    assert added["description"] == "The encore set, live from Brixton."
    assert added["showStartsAt"] == "2027-04-01T19:30:00+00:00"
    on_sale = {i["itemId"]: i for i in shop("get-items")["message"]["items"]}
    assert on_sale[added["itemId"]]["showStartsAt"] == "2027-04-01T19:30:00+00:00"
    assert on_sale[added["itemId"]]["description"] == "The encore set, live from Brixton."

    code, out, _ = run("catalog", "update", added["itemId"], "--show-starts-at", "none", "--json")
    assert code == 0 and json.loads(out)["showStartsAt"] is None
    before = items(store)
    for refused in (
        ("update", POSTER.item_id, "--show-starts-at", "2027-04-01T19:30:00Z"),
        ("update", added["itemId"], "--show-starts-at", "2027-04-01T19:30:00"),
        ("update", added["itemId"], "--show-starts-at", "next tuesday"),
        ("update", added["itemId"], "--description", "x" * 501),
    ):
        code, _, err = run("catalog", *refused)
        assert code == 1 and err.startswith("couchpay: "), (refused, err)
    assert items(store) == before
