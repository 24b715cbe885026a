"""`couchpay users export|forget`: a fan's data on request (see service/data_requests.py).

``export`` prints every record couchpay keeps about the fan as one JSON document, or writes it to
``--out FILE``: a new file, created mode 0600 (never an existing one: it holds personal data).
``forget`` erases the fan's personal data on every record, cancels their cards and deletes their
Stripe customer, keeping the financial records; it asks for the user id to be typed again unless
``--yes``. Exit codes: 0 done, 1 refused (nothing changed, or a re-run finishes it), 2 usage."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from couchpay.config import Config, OperatorError
from couchpay.file_modes import PRIVATE_FILE


def add_commands(commands: Any) -> None:
    users = commands.add_parser(
        "users",
        help="a fan's data on request: export, forget",
        description="A fan's data on request: all of it as JSON, or its erasure.",
    )
    sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    export = sub.add_parser("export", help="every record kept about a user, as one JSON document")
    export.add_argument("user_id")
    export.add_argument("--out", type=Path, metavar="FILE", help="a new file (mode 0600)")
    export.set_defaults(run=_export)
    forget = sub.add_parser(
        "forget",
        help="erase a user's personal data, cancel their cards, delete their Stripe customer",
    )
    forget.add_argument("user_id")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    forget.set_defaults(run=_forget)


def _export(args: argparse.Namespace, config: Config) -> int:
    from couchpay.bootstrap import operator_services
    from couchpay.service.data_requests import export_user

    with operator_services(config, needs_stripe=False) as svc:
        document = export_user(svc, args.user_id)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        raise OperatorError(f"{args.out} exists: give a new file name") from None
    except OSError as exc:
        raise OperatorError(f"cannot create {args.out}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    print(f"wrote {args.out} (mode 0600)", file=sys.stderr)
    return 0


def _forget(args: argparse.Namespace, config: Config) -> int:
    from couchpay.bootstrap import operator_services
    from couchpay.service.data_requests import forget_user

    if not args.yes:
        print(
            f"This erases {args.user_id!r}'s names, addresses, emails and names on cards, cancels"
            " their cards and deletes their Stripe customer. It cannot be undone.\n"
            "Type the user id again to go on: ",
            end="",
            file=sys.stderr,
            flush=True,
        )
        if sys.stdin.readline().strip() != args.user_id:
            raise OperatorError("not confirmed: nothing was changed")
    with operator_services(config, needs_stripe=True) as svc:
        done = forget_user(svc, args.user_id)
    print(done.line())
    return 0
