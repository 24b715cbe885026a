"""The catalog's operator rules, over the in-memory store (the CLI runs them on SQLite in
tests/integration/test_catalog_cli.py)."""

from __future__ import annotations

import pytest

from couchpay.domain.catalog import DEMO_CATALOG, ItemKind
from couchpay.domain.errors import BadRequest, NotFound
from couchpay.service import catalog_admin as ca
from couchpay.service.context import Services
from tests.services import services
from tests.unit.fakes import FakeGateway, MemoryStore

POSTER = DEMO_CATALOG[2]


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def svc(store: MemoryStore) -> Services:
    return services(store, FakeGateway(), seed_catalog=True)


def test_add_gives_a_new_id_and_cleans_the_name(svc: Services, store: MemoryStore) -> None:
    item = ca.add_item(svc, "  Tour   hoodie ", "merch", 4500, 700)
    assert item.name == "Tour hoodie"
    assert item.kind is ItemKind.MERCH
    assert store.get_item(item.item_id) == item
    other = ca.add_item(svc, "Tour mug", ItemKind.MERCH, 1500)
    assert other.item_id != item.item_id and other.shipping_cents == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", "merch", 100), "cannot be empty"),
        (("x" * 81, "merch", 100), "at most 80"),
        (("Bad\x07name", "merch", 100), "control characters"),
        (("Hoodie", "vinyl", 100), "Unknown kind 'vinyl'"),
        (("Hoodie", "merch", -1), "cannot be negative"),
        (("Hoodie", "merch", 12.5), "whole number of cents"),
        (("Hoodie", "merch", True), "whole number of cents"),
        (("Hoodie", "merch", 100_000_000), "at most 99999999"),
        (("Hoodie", "merch", 100, -5), "shipping cannot be negative"),
        (("Stream 2", "livestream", 100, 500), "livestream item is not shipped"),
        (("VIP", "meet_and_greet", 100, 1), "meet_and_greet item is not shipped"),
        (("TOUR POSTER", "merch", 100), "already exists"),
    ],
)
def test_add_refusals_write_nothing(
    svc: Services, store: MemoryStore, args: tuple[object, ...], message: str
) -> None:
    before = dict(store.items)
    with pytest.raises(BadRequest, match=message):
        ca.add_item(svc, *args)  # type: ignore[arg-type]
    assert store.items == before


def test_names_stay_unique_against_deactivated_items(svc: Services) -> None:
    ca.deactivate_item(svc, POSTER.item_id)
    with pytest.raises(BadRequest, match="deactivated"):
        ca.add_item(svc, "tour poster", "merch", 100)


def test_update_changes_only_what_is_given(svc: Services, store: MemoryStore) -> None:
    item = ca.update_item(svc, POSTER.item_id, price_cents=12000)
    assert (item.name, item.price_cents, item.shipping_cents) == ("Tour poster", 12000, 500)
    assert store.get_item(POSTER.item_id) == item
    renamed = ca.update_item(svc, POSTER.item_id, name="tour POSTER")  # its own name, recased
    assert renamed.name == "tour POSTER"


def test_update_refusals_write_nothing(svc: Services, store: MemoryStore) -> None:
    before = dict(store.items)
    with pytest.raises(NotFound, match="No catalog item with id 'nope'"):
        ca.update_item(svc, "nope", price_cents=1)
    with pytest.raises(BadRequest, match="Nothing to update"):
        ca.update_item(svc, POSTER.item_id)
    with pytest.raises(BadRequest, match="cannot be negative"):
        ca.update_item(svc, POSTER.item_id, price_cents=-100)
    with pytest.raises(BadRequest, match="already exists"):
        ca.update_item(svc, POSTER.item_id, name="meet AND greet")
    with pytest.raises(BadRequest, match="livestream item is not shipped"):
        ca.update_item(svc, POSTER.item_id, kind="livestream")  # it has shipping 500
    assert store.items == before
    switched = ca.update_item(svc, POSTER.item_id, kind="livestream", shipping_cents=0)
    assert switched.kind is ItemKind.LIVESTREAM and switched.shipping_cents == 0


def test_deactivate_and_activate_are_idempotent(svc: Services, store: MemoryStore) -> None:
    item, changed = ca.deactivate_item(svc, POSTER.item_id)
    assert changed and not item.active
    assert POSTER.item_id not in [i.item_id for i in store.list_items()]
    assert POSTER.item_id in [i.item_id for i in ca.list_all(svc)]
    again, changed = ca.deactivate_item(svc, POSTER.item_id)
    assert not changed and again == item
    back, changed = ca.activate_item(svc, POSTER.item_id)
    assert changed and back.active and back.price_cents == POSTER.price_cents
    with pytest.raises(NotFound):
        ca.deactivate_item(svc, "nope")


def test_seed_if_fresh_never_brings_back_deactivated_items(svc: Services) -> None:
    for item in DEMO_CATALOG:
        ca.deactivate_item(svc, item.item_id)
    assert ca.seed_if_fresh(svc) is False
    assert svc.store.list_items() == []


@pytest.mark.parametrize("text", ["12.5", "abc", "", " ", "1e3", "١٢"])
def test_parse_cents_refuses_what_is_not_whole_cents(text: str) -> None:
    with pytest.raises(BadRequest, match="whole number of cents"):
        ca.parse_cents("price", text)


def test_parse_cents() -> None:
    assert ca.parse_cents("price", " 2000 ") == 2000
    with pytest.raises(BadRequest, match="cannot be negative"):
        ca.parse_cents("price", "-1")
