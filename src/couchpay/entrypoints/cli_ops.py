"""`couchpay config`, `couchpay cards expire` and `couchpay asyncapi`.

Exit codes: 0 done, 1 refused or failed (the reason on stderr as ``couchpay: ...``), 2 usage."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from couchpay.config import Config
from couchpay.domain.errors import CouchpayError


def add_commands(commands: Any) -> None:
    config = commands.add_parser(
        "config",
        help="show the effective configuration (never a key or secret)",
        description="Show the configuration couchpay runs with, as read from the environment "
        "at start-up. Keys and secrets are never printed, only whether they are set.",
    )
    config.add_argument("--json", action="store_true", help="print JSON")
    config.set_defaults(run=_config)

    cards = commands.add_parser("cards", help="card lifecycle jobs")
    sub = cards.add_subparsers(dest="cards_command", required=True, metavar="ACTION")
    expire = sub.add_parser(
        "expire",
        help="mark live cards past their expiry month expired (safe to run again)",
        description="Mark every live card whose expiry month has passed 'expired'. "
        "Idempotent: a second run changes nothing. Deleted cards are never touched.",
    )
    expire.add_argument("--card", metavar="CARD_ID", help="only this card")
    expire.add_argument("--json", action="store_true", help="print the summary as JSON")
    expire.set_defaults(run=_cards_expire)

    spec = commands.add_parser(
        "asyncapi",
        help="print or regenerate the AsyncAPI document and docs/ pages",
        description="Without --out, print the AsyncAPI 3 document of the WebSocket protocol. "
        "With --out DIR, write DIR/asyncapi.json, DIR/README.md and DIR/actions/*.md.",
    )
    spec.add_argument("--out", metavar="DIR", type=Path, help="write the docs here (e.g. docs)")
    spec.add_argument(
        "--check", action="store_true", help="with --out: only report whether DIR is up to date"
    )
    spec.set_defaults(run=_asyncapi)


def _fail(message: str) -> int:
    print(f"couchpay: {message}", file=sys.stderr)
    return 1


# config --------------------------------------------------------------------------------------
def effective_config(config: Config) -> dict[str, Any]:
    """What the operator needs to know, and nothing secret."""
    if config.offline:
        stripe_mode = "offline (embedded localstripe; no STRIPE_SECRET_KEY)"
        if config.stripe_api_base:
            stripe_mode = f"offline (localstripe at {_redact_url(config.stripe_api_base)})"
    else:
        stripe_mode = f"real Stripe ({_key_mode(config.stripe_secret_key)} key set)"
        if config.stripe_api_base:
            stripe_mode += f" via {_redact_url(config.stripe_api_base)}"
    if config.jwks_url:
        identity = (
            f"identity provider tokens (JWKS {_redact_url(config.jwks_url)}); dev tokens refused"
        )
    elif config.dev_sign_in:
        identity = f"local dev tokens (`couchpay dev-token`; key in {config.dev_key_file})"
    else:
        identity = (
            "none: with a Stripe key, set COUCHPAY_JWKS_URL (or, test keys only,"
            " COUCHPAY_DEV_SIGN_IN=1); `couchpay serve` refuses to start"
        )
    return {
        "currency": config.currency,
        "streamingRate": percent(config.streaming_rate),
        "dataDir": str(config.data_dir),
        "database": _redact_url(config.database)
        if config.database
        else f"sqlite:///{config.sqlite_path}",
        "stripe": stripe_mode,
        "stripeSecretKey": _set(config.stripe_secret_key),
        "stripePublishableKey": _set(config.stripe_publishable_key),
        "stripeWebhookSecret": _set(config.stripe_webhook_secret),
        "identity": identity,
        "webDir": str(config.web_dist),
        "eventEndpoints": ", ".join(_redact_url(u) for u in config.events_urls) or "none",
        "eventsSecret": _set(config.events_secret),
    }


LABELS = {
    "currency": "currency",
    "streamingRate": "streaming rate",
    "dataDir": "data dir",
    "database": "database",
    "stripe": "stripe",
    "stripeSecretKey": "  secret key",
    "stripePublishableKey": "  publishable key",
    "stripeWebhookSecret": "  webhook secret",
    "identity": "identity",
    "webDir": "web page",
    "eventEndpoints": "event endpoints",
    "eventsSecret": "  signing secret",
}


def _config(args: argparse.Namespace, config: Config) -> int:
    shown = effective_config(config)
    if args.json:
        print(json.dumps(shown, indent=2))
        return 0
    width = max(len(label) for label in LABELS.values())
    for key, value in shown.items():
        print(f"{LABELS.get(key, key).ljust(width)}  {value}")
    return 0


def percent(rate: Fraction) -> str:
    """Fraction(1, 10) -> '10%'; exact when it can be, else 4 significant decimals."""
    value = rate * 100
    denominator = value.denominator
    for factor in (2, 5):
        while denominator % factor == 0:
            denominator //= factor
    if denominator == 1:  # a finite decimal
        text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return f"{text}%"
    return f"{float(value):.4g}% (exactly {rate.numerator}/{rate.denominator})"


def _set(value: str | None) -> str:
    return "set" if value else "not set"


def _key_mode(key: str | None) -> str:
    """Only the kind of key, from its documented prefix; never any of the key itself."""
    for prefix, mode in (("sk_test_", "test"), ("rk_test_", "test (restricted)")):
        if key and key.startswith(prefix):
            return mode
    for prefix, mode in (("sk_live_", "live"), ("rk_live_", "live (restricted)")):
        if key and key.startswith(prefix):
            return mode
    return "unrecognised"


def _redact_url(url: str) -> str:
    """Drop any user:password@ and query string (they may carry credentials)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(not a valid URL)"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username or parts.password:
        host = f"***@{host}"
    query = "***" if parts.query else ""
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


# cards expire --------------------------------------------------------------------------------
def _cards_expire(args: argparse.Namespace, config: Config) -> int:
    from couchpay.bootstrap import open_for_operator
    from couchpay.config import OperatorError
    from couchpay.entrypoints.progress import Progress
    from couchpay.service.card_lifecycle import expire_cards

    try:
        svc = open_for_operator(config, needs_stripe=False)
    except OperatorError as exc:
        return _fail(str(exc))
    progress = Progress("expiring cards")
    try:
        summary = expire_cards(svc, progress, card_id=args.card)
    except CouchpayError as exc:
        return _fail(exc.message)
    finally:
        svc.store.close()
    progress.finish()
    print(json.dumps(summary.as_dict()) if args.json else summary.line())
    return 0


# asyncapi ------------------------------------------------------------------------------------
def _asyncapi(args: argparse.Namespace, config: Config) -> int:
    from couchpay.wire import asyncapi

    if args.out is None:
        if args.check:
            print("couchpay: --check needs --out DIR", file=sys.stderr)
            return 2
        sys.stdout.write(asyncapi.dumps(asyncapi.build_document()))
        return 0
    if args.check:
        stale = asyncapi.stale_docs(args.out)
        if stale:
            return _fail(
                f"{args.out} is out of date ({', '.join(stale)}): run `{asyncapi.REGENERATE}`"
            )
        print(f"{args.out} is up to date")
        return 0
    written = asyncapi.write_docs(args.out)
    print(f"wrote {len(written)} files under {args.out}")
    return 0
