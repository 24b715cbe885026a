"""`couchpay purchases list|show`: operators look purchases up, across users, without a server.

``list`` pages newest first (``--limit``, default 20; the next page's ``--cursor`` is printed
last) and narrows by user, status, creation time and whether the charge was disputed; every
filter is served by an index (no table scan on DynamoDB). ``show`` prints everything on one
record, its refunds, its dispute, and Stripe's risk assessment when the stored PaymentIntent
summary has it. ``--json`` prints the records as
stored. Exit codes: 0 done, 1 refused (e.g. no such purchase, a bad cursor), 2 usage."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime
from typing import Any

from couchpay.config import Config
from couchpay.domain.errors import NotFound
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.purchase_queries import MAX_PAGE, PurchaseFilter

STATUS_CHOICES = [s.value for s in PurchaseStatus]


def add_commands(commands: Any) -> None:
    purchases = commands.add_parser(
        "purchases",
        help="look purchases up (every user)",
        description="Look purchases up across users, newest first, a page at a time.",
    )
    sub = purchases.add_subparsers(dest="purchases_command", required=True, metavar="ACTION")
    ls = sub.add_parser("list", help="purchases newest first, filtered, a page at a time")
    ls.add_argument("--user", metavar="USER_ID", help="one fan's purchases")
    ls.add_argument("--status", choices=STATUS_CHOICES)
    ls.add_argument(
        "--since",
        type=_instant,
        metavar="ISO8601",
        help="created at or after: 2026-11-30 (UTC midnight) or 2026-11-30T18:00:00+01:00",
    )
    ls.add_argument(
        "--disputed", action="store_true", help="only purchases whose charge was disputed"
    )
    ls.add_argument("--limit", type=_limit, default=20, help=f"per page, 1 to {MAX_PAGE}")
    ls.add_argument("--cursor", help="the next page: the cursor the previous page printed")
    ls.add_argument("--json", action="store_true", help='{"purchases": [...], "nextCursor"}')
    ls.set_defaults(run=_list)
    show = sub.add_parser("show", help="one purchase: everything on it, refunds, Stripe's risk")
    show.add_argument("transaction_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=_show)


def _instant(text: str) -> datetime:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        found = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {text!r}") from None
    if found.utcoffset() is None:
        raise argparse.ArgumentTypeError("a time needs its offset (Z for UTC)")
    return found


def _limit(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_PAGE}")
    return int(text)


def _list(args: argparse.Namespace, config: Config) -> int:
    from couchpay.bootstrap import operator_services
    from couchpay.service.data_requests import purchase_record

    where = PurchaseFilter(
        user_id=args.user,
        status=PurchaseStatus(args.status) if args.status else None,
        since=args.since,
        disputed=args.disputed,
    )
    with operator_services(config, needs_stripe=False) as svc:
        page, cursor = svc.store.find_purchases(where, args.limit, args.cursor)
        if args.json:
            found = [purchase_record(p, svc.store.list_refunds(p.transaction_id)) for p in page]
            print(json.dumps({"purchases": found, "nextCursor": cursor}, indent=2))
            return 0
    _table(page)
    if cursor is not None:
        print(f"next page: --cursor {cursor}")
    return 0


def _money(cents: int, currency: str) -> str:
    return f"{cents // 100}.{cents % 100:02d} {currency}"


def _table(page: list[Purchase]) -> None:
    if not page:
        print("no purchases")
        return
    rows = [("CREATED (UTC)", "TRANSACTION", "USER", "STATUS", "TOTAL", "REFUNDED", "CARD")]
    for p in page:
        rows.append(
            (
                p.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                p.transaction_id,
                p.user_id,
                p.status.value,
                _money(p.total_cents, p.currency),
                _money(p.refunded_cents, p.currency) if p.refunded_cents else "-",
                f"{p.card_brand} {p.card_last_four}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def risk_of(summary: dict[str, Any]) -> str:
    """Stripe's assessment of the latest charge, as the stored summary keeps it."""
    outcome = summary.get("outcome")
    if not isinstance(outcome, dict) or outcome.get("risk_level") is None:
        return "not given by Stripe"
    score = outcome.get("risk_score")
    return str(outcome["risk_level"]) + (f" (score {score})" if score is not None else "")


def dispute_line(p: Purchase) -> str:
    d = p.dispute
    if d is None:
        return "-"
    due = d.evidence_due_by.strftime("%Y-%m-%d %H:%M UTC") if d.evidence_due_by else "-"
    return (
        f"{d.dispute_id} {d.status.value} ({d.reason}), {_money(d.amount_cents, d.currency)},"
        f" evidence due {due}"
    )


def _show(args: argparse.Namespace, config: Config) -> int:
    from couchpay.bootstrap import operator_services
    from couchpay.service.data_requests import purchase_record

    with operator_services(config, needs_stripe=False) as svc:
        p = svc.store.get_purchase(args.transaction_id)
        if p is None:
            raise NotFound(f"no purchase {args.transaction_id}")
        refunds = svc.store.list_refunds(p.transaction_id)
    record = purchase_record(p, refunds)
    if args.json:
        print(json.dumps(record, indent=2))
        return 0
    for name in (
        "transaction_id",
        "request_id",
        "user_id",
        "status",
        "created_at",
        "updated_at",
        "payment_intent_id",
        "payment_method_id",
        "card_id",
        "failure_code",
        "failure_message",
        "receipt_email",
    ):
        print(f"{name + ':':22}{record[name] if record[name] is not None else '-'}")
    print(f"{'card:':22}{p.card_brand} {p.card_last_four}")
    print(f"{'risk:':22}{risk_of(p.stripe_response)}")
    for line in p.items:
        price = _money(line.unit_price_cents, p.currency)
        print(f"{'item:':22}{line.quantity} x {line.name} ({line.item_id}) at {price}")
    for label, cents in (
        ("subtotal", p.subtotal_cents),
        ("streaming cost", p.streaming_cost_cents),
        ("shipping", p.shipping_cents),
        ("total", p.total_cents),
        ("refunded", p.refunded_cents),
    ):
        print(f"{label + ':':22}{_money(cents, p.currency)}")
    a = p.shipping_address
    where = (
        ", ".join(
            v for v in (a.name, a.line1, a.line2, a.city, a.state, a.postal_code, a.country) if v
        )
        if a
        else "-"
    )
    print(f"{'ships to:':22}{where}")
    print(f"{'dispute:':22}{dispute_line(p)}")
    # The lead prints the dispute here with the disputes branch (Purchase.dispute).
    for r in refunds:
        print(
            f"{'refund:':22}{r.refund_key} {_money(r.amount_cents, p.currency)} {r.status.value}"
            f" {r.stripe_refund_id or '-'} {r.created_at.isoformat()}"
        )
    return 0
