"""The ``couchpay`` command. Each group of subcommands lives in its own module, which adds its
parsers in ``add_commands`` and sets ``run(args, config) -> exit code`` as their default."""

from __future__ import annotations

import argparse
import importlib

from couchpay.config import Config

COMMAND_MODULES = (
    "couchpay.entrypoints.cli_serve",
    "couchpay.entrypoints.cli_payments",
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
    code: int = args.run(args, Config.from_env())
    return code


if __name__ == "__main__":
    raise SystemExit(main())
