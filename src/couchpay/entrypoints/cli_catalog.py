"""`couchpay catalog list|add|update|deactivate|activate`: the shop's items, from the command line.

They work on the database of ``COUCHPAY_DATA_DIR`` / ``COUCHPAY_DB`` directly (no running server
needed; a running one sees the change on its next request). Exit codes: 0 done, 1 refused
(the reason on stderr, nothing changed), 2 usage."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from couchpay.config import Config
from couchpay.domain.catalog import CatalogItem, ItemKind
from couchpay.domain.errors import CouchpayError
from couchpay.service.context import Services

KIND_CHOICES = [k.value for k in ItemKind]


def add_commands(commands: Any) -> None:
    catalog = commands.add_parser(
        "catalog",
        help="list and change what the shop sells",
        description="List and change what the shop sells. Prices are whole cents "
        "(2000 = 20.00). Items are never deleted: deactivate takes one off sale.",
    )
    sub = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")

    ls = sub.add_parser("list", help="every item, on sale or not")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.set_defaults(run=_list)

    add = sub.add_parser("add", help="add an item (prints its new id)")
    add.add_argument("name", help="1 to 80 characters, unique (case does not count)")
    add.add_argument("--kind", required=True, choices=KIND_CHOICES)
    add.add_argument("--price-cents", required=True, metavar="CENTS")
    add.add_argument(
        "--shipping-cents", default="0", metavar="CENTS", help="merch only (default 0)"
    )
    add.add_argument("--description", default="", help="what it is, shown in the shop")
    add.add_argument(
        "--show-starts-at", metavar="ISO8601", help="livestreams: e.g. 2027-03-14T20:00:00Z"
    )
    add.add_argument(
        "--capacity", metavar="UNITS", help="sell at most this many (default: no limit)"
    )
    add.add_argument("--json", action="store_true", help="print the item as JSON")
    add.set_defaults(run=_add)

    update = sub.add_parser(
        "update", help="change an item's name, kind, price or shipping (past purchases keep theirs)"
    )
    update.add_argument("item_id")
    update.add_argument("--name")
    update.add_argument("--kind", choices=KIND_CHOICES)
    update.add_argument("--price-cents", metavar="CENTS")
    update.add_argument("--shipping-cents", metavar="CENTS")
    update.add_argument("--capacity", metavar="UNITS", help="sell at most this many in all")
    update.add_argument("--unlimited", action="store_true", help="remove the capacity")
    update.add_argument("--description")
    update.add_argument("--show-starts-at", metavar="ISO8601", help='livestreams; "none" clears it')
    update.add_argument("--json", action="store_true", help="print the item as JSON")
    update.set_defaults(run=_update)

    for name, helptext, run in (
        ("deactivate", "take an item off sale (it stays in purchase history)", _deactivate),
        ("activate", "put a deactivated item back on sale", _activate),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("item_id")
        p.add_argument("--json", action="store_true", help="print the item as JSON")
        p.set_defaults(run=run)


# commands ------------------------------------------------------------------------------------
UPDATABLE = (
    "name",
    "kind",
    "price_cents",
    "shipping_cents",
    "description",
    "show_starts_at",
)


def _list(args: argparse.Namespace, config: Config) -> int:
    from couchpay.service import catalog_admin

    def run(svc: Services) -> None:
        items = catalog_admin.list_all(svc)
        if args.json:
            print(json.dumps([item_json(i) for i in items], indent=2))
        else:
            print(table(items, config.currency))

    return _operate(config, run)


def _add(args: argparse.Namespace, config: Config) -> int:
    from couchpay.service import catalog_admin as ca

    def run(svc: Services) -> None:
        item = ca.add_item(
            svc,
            args.name,
            args.kind,
            ca.parse_cents("price", args.price_cents),
            ca.parse_cents("shipping", args.shipping_cents),
            None if args.capacity is None else ca.parse_count("capacity", args.capacity),
            description=args.description,
            show_starts_at=args.show_starts_at,
        )
        _show(args, item, "added", config.currency)

    return _operate(config, run)


def _update(args: argparse.Namespace, config: Config) -> int:
    from couchpay.service import catalog_admin as ca

    fields = (*UPDATABLE, "capacity")
    if all(getattr(args, k) is None for k in fields) and not args.unlimited:
        print(
            "couchpay: nothing to update: give --name, --kind, --price-cents, --shipping-cents,"
            " --description, --show-starts-at, --capacity or --unlimited",
            file=sys.stderr,
        )
        return 2

    def run(svc: Services) -> None:
        price = args.price_cents
        shipping = args.shipping_cents
        item = ca.update_item(
            svc,
            args.item_id,
            name=args.name,
            kind=args.kind,
            price_cents=None if price is None else ca.parse_cents("price", price),
            shipping_cents=None if shipping is None else ca.parse_cents("shipping", shipping),
            capacity=None if args.capacity is None else ca.parse_count("capacity", args.capacity),
            unlimited=args.unlimited,
            description=args.description,
            show_starts_at=args.show_starts_at,
        )
        _show(args, item, "updated", config.currency)

    return _operate(config, run)


def _deactivate(args: argparse.Namespace, config: Config) -> int:
    from couchpay.service import catalog_admin as ca

    def run(svc: Services) -> None:
        item, changed = ca.deactivate_item(svc, args.item_id)
        _show(args, item, "deactivated" if changed else "already inactive", config.currency)

    return _operate(config, run)


def _activate(args: argparse.Namespace, config: Config) -> int:
    from couchpay.service import catalog_admin as ca

    def run(svc: Services) -> None:
        item, changed = ca.activate_item(svc, args.item_id)
        _show(args, item, "activated" if changed else "already on sale", config.currency)

    return _operate(config, run)


# helpers -------------------------------------------------------------------------------------
def _operate(config: Config, run: Callable[[Services], None]) -> int:
    """Run one catalog command; a refusal is one line on stderr and exit code 1."""
    from couchpay.bootstrap import operator_services
    from couchpay.config import OperatorError
    from couchpay.service.catalog_admin import seed_if_fresh

    try:
        with operator_services(config, needs_stripe=False) as svc:
            if seed_if_fresh(svc):
                print("couchpay: a fresh database: the demo catalog was added", file=sys.stderr)
            run(svc)
    except (CouchpayError, OperatorError) as exc:
        print(f"couchpay: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1
    return 0


def _show(args: argparse.Namespace, item: CatalogItem, what: str, currency: str) -> None:
    if args.json:
        print(json.dumps(item_json(item), indent=2))
    else:
        print(f"{what}: {item.item_id}  {item.name}")
        print(table([item], currency))


def item_json(item: CatalogItem) -> dict[str, Any]:
    return {
        "itemId": item.item_id,
        "name": item.name,
        "kind": item.kind.value,
        "priceCents": item.price_cents,
        "shippingCents": item.shipping_cents,
        "active": item.active,
        "capacity": item.capacity,
        "description": item.description,
        "showStartsAt": item.show_starts_at.isoformat() if item.show_starts_at else None,
    }


# Stripe's zero-decimal currencies: amounts are already whole units
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)


def money(cents: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL:
        return f"{cents} {currency.upper()}"
    return f"{cents // 100}.{cents % 100:02d} {currency.upper()}"


def table(items: list[CatalogItem], currency: str) -> str:
    if not items:
        return "no items (add one with `couchpay catalog add`)"
    head = ("ID", "NAME", "KIND", "PRICE", "SHIPPING", "ON SALE")
    rows = [
        (
            i.item_id,
            i.name,
            i.kind.value,
            money(i.price_cents, currency),
            money(i.shipping_cents, currency) if i.shipping_cents else "-",
            "yes" if i.active else "no (inactive)",
        )
        for i in items
    ]
    widths = [max(len(r[col]) for r in (head, *rows)) for col in range(len(head))]
    right = {3, 4}

    def fmt(row: tuple[str, ...]) -> str:
        cells = (
            c.rjust(w) if n in right else c.ljust(w)
            for n, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        return "  ".join(cells).rstrip()

    return "\n".join(fmt(r) for r in (head, *rows))
