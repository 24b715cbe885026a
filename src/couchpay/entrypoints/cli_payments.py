"""`couchpay reconcile` and `couchpay refund`: operator commands on payments."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from couchpay.config import Config


def add_commands(commands: Any) -> None:
    rec = commands.add_parser(
        "reconcile", help="settle pending / 3-D Secure purchases from what Stripe says now"
    )
    rec.add_argument(
        "--older-than",
        type=float,
        default=600,
        metavar="SECONDS",
        help="only records untouched for this long (default 600: never a purchase in flight)",
    )
    rec.add_argument("--limit", type=int, default=1000)
    rec.set_defaults(run=_reconcile)
    ref = commands.add_parser("refund", help="refund a paid purchase, fully or partly")
    ref.add_argument("transaction_id")
    ref.add_argument("--amount", type=int, metavar="CENTS", help="default: what is left")
    ref.add_argument("--key", help="a new key refunds the same amount again on purpose")
    ref.set_defaults(run=_refund)


def _reconcile(args: argparse.Namespace, config: Config) -> int:
    from couchpay.bootstrap import operator_services
    from couchpay.entrypoints.progress import Progress
    from couchpay.service.reconcile import reconcile

    with operator_services(config, needs_stripe=True) as svc:
        older_than = timedelta(seconds=args.older_than)
        todo = len(svc.store.list_unsettled_purchases(svc.now() - older_than, args.limit))
        progress = Progress("reconcile", todo)
        summary = reconcile(svc, older_than, args.limit, progress.step)
        progress.finish()
    print(summary.line())
    return 0 if summary.unreachable == 0 else 1


def _refund(args: argparse.Namespace, config: Config) -> int:
    from couchpay.bootstrap import operator_services
    from couchpay.service.refunds import refund_purchase

    with operator_services(config, needs_stripe=True) as svc:
        outcome = refund_purchase(svc, args.transaction_id, args.amount, args.key)
    p, r = outcome.purchase, outcome.refund
    again = " (already done: nothing new refunded)" if outcome.repeated else ""
    print(
        f"refund {r.refund_key}: {r.amount_cents} cents {r.status.value}{again}; "
        f"purchase {p.transaction_id} is {p.status.value}, "
        f"{p.refunded_cents} of {p.total_cents} cents refunded"
        + (f"; dispute {p.dispute.dispute_id} {p.dispute.status.value}" if p.dispute else "")
    )
    return 0
