"""The ``couchpay`` command. Each group of subcommands lives in its own module, which adds its
parsers in ``add_commands`` and sets ``run(args, config) -> exit code`` as their default."""

from __future__ import annotations

import argparse
import importlib
import sys

from couchpay.config import Config, ConfigError, OperatorError
from couchpay.domain.errors import CouchpayError

COMMAND_MODULES = (
    "couchpay.entrypoints.cli_serve",
    "couchpay.entrypoints.cli_payments",
    "couchpay.entrypoints.cli_catalog",
    "couchpay.entrypoints.cli_ops",
    "couchpay.entrypoints.cli_offline_stripe",
    "couchpay.entrypoints.cli_purchases",
    "couchpay.entrypoints.cli_users",
    "couchpay.entrypoints.cli_events",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="couchpay", description="The payment service of couchtour.tv."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = Config.from_env()
    except ConfigError as exc:
        print(f"couchpay: {exc}", file=sys.stderr)
        return 2
    try:
        code: int = args.run(args, config)
    except (OperatorError, CouchpayError) as exc:  # the one place they become exit codes
        print(f"couchpay: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1
    except ConfigError as exc:  # a setting found unusable once the command looked closer
        print(f"couchpay: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
