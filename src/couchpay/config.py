"""Settings, read once from the environment at start-up (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from couchpay.domain.pricing import DEFAULT_STREAMING_RATE

LIVE_STRIPE_RATE = 24.0
TEST_STRIPE_RATE = 20.0
TRUE_WORDS = ("1", "true", "yes", "on")


class ConfigError(ValueError):
    """A setting in the environment is not valid; the message names it."""


class OperatorError(RuntimeError):
    """An operator command cannot run as configured; the message says why."""


def _number(e: dict[str, str], name: str, default: float | None, minimum: float) -> float | None:
    raw = e.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: not a number: {raw!r}") from exc
    if not value >= minimum:
        raise ConfigError(f"{name}: must be at least {minimum}: {raw!r}")
    return value


def parse_rate(text: str) -> Fraction:
    """'10%' or '0.10' -> Fraction(1, 10): exact, never a float."""
    raw = text.strip()
    percent = raw.endswith("%")
    try:
        value = Fraction(Decimal(raw.removesuffix("%").strip()))
    except (InvalidOperation, ValueError) as exc:
        raise ConfigError(f"COUCHPAY_STREAMING_RATE: not a number: {text!r}") from exc
    value = value / 100 if percent else value
    if not 0 <= value <= 1:
        raise ConfigError(f"COUCHPAY_STREAMING_RATE: must be between 0 and 100%: {text!r}")
    return value


def is_live_key(key: str | None) -> bool:
    """Anything but a test key counts as live: sk_live_, rk_live_, or a shape we do not know."""
    return key is not None and not key.startswith(("sk_test_", "rk_test_"))


def _positive(env: dict[str, str], name: str, default: float) -> int:
    raw = env.get(name) or ""
    if not raw:
        return int(default)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: not a whole number: {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name}: must be positive: {raw!r}")
    return value


def _urls(raw: str) -> tuple[str, ...]:
    """``COUCHPAY_EVENTS_URLS``: http(s) URLs, comma-separated."""
    urls = tuple(u.strip() for u in raw.split(",") if u.strip())
    for url in urls:
        if not url.startswith(("https://", "http://")):
            raise ConfigError(f"COUCHPAY_EVENTS_URLS: not an http(s) URL: {url!r}")
    return urls


@dataclass(frozen=True)
class Config:
    data_dir: Path
    stripe_secret_key: str | None = None
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    database: str | None = None
    currency: str = "usd"
    streaming_rate: Fraction = DEFAULT_STREAMING_RATE
    stripe_rate: float | None = None
    """Purchases sent to Stripe per second; None: Stripe's documented limits (``line_rate``)."""
    line_max: int = 10_000
    line_max_wait_seconds: float = 600.0
    line_queue: str | None = None
    """AWS: the SQS queue of the shared line's worker (``COUCHPAY_LINE_QUEUE``); with it, every
    Lambda instance paces its purchases through the shared line."""
    line_wait_here_seconds: float = 20.0
    """AWS: the longest a request waits for its slot itself before the worker takes it."""
    settle_every_seconds: float = 15.0
    settle_pending_after_seconds: float = 300.0
    abandon_3ds_after_seconds: float = 900.0
    failpoint: str | None = None
    allowed_origins: tuple[str, ...] = ()
    rate_limit: str = "20/40"
    jwks_url: str | None = None
    token_issuer: str | None = None
    token_audience: str | None = None
    web_dir: Path | None = None
    dev_sign_in_opt_in: bool = False
    webhook_max_bytes: int = 256 * 1024
    handshake_timeout_seconds: float = 10.0
    max_connections: int = 500
    max_sockets_per_user: int = 10
    user_rate_limit: str = "40/80"
    stripe_writes_per_minute: int = 20
    events_urls: tuple[str, ...] = ()
    """Where fulfillment events are POSTed (``COUCHPAY_EVENTS_URLS``, comma-separated)."""
    events_secret: str | None = None
    """Their signing secret (``COUCHPAY_EVENTS_SECRET``; on AWS from SSM)."""
    events_every_seconds: float = 1.0
    events_retry_base_seconds: float = 5.0
    events_retry_max_seconds: float = 3600.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        e = dict(os.environ if env is None else env)
        config = cls(
            data_dir=Path(e.get("COUCHPAY_DATA_DIR") or "./.couchpay"),
            stripe_secret_key=e.get("STRIPE_SECRET_KEY") or None,
            stripe_publishable_key=e.get("STRIPE_PUBLISHABLE_KEY") or None,
            stripe_webhook_secret=e.get("STRIPE_WEBHOOK_SECRET") or None,
            stripe_api_base=e.get("STRIPE_API_BASE") or None,
            database=e.get("COUCHPAY_DB") or None,
            currency=(e.get("COUCHPAY_CURRENCY") or "usd").lower(),
            streaming_rate=(
                parse_rate(e["COUCHPAY_STREAMING_RATE"])
                if e.get("COUCHPAY_STREAMING_RATE")
                else DEFAULT_STREAMING_RATE
            ),
            stripe_rate=_number(e, "COUCHPAY_STRIPE_RATE", None, 0.1),
            line_max=_positive(e, "COUCHPAY_LINE_MAX", 10_000),
            line_max_wait_seconds=_number(e, "COUCHPAY_LINE_MAX_WAIT_SECONDS", 600, 1) or 600,
            line_queue=e.get("COUCHPAY_LINE_QUEUE") or None,
            line_wait_here_seconds=_number(e, "COUCHPAY_LINE_WAIT_HERE_SECONDS", 20, 0) or 0.0,
            settle_every_seconds=_number(e, "COUCHPAY_SETTLE_EVERY_SECONDS", 15, 0.1) or 15,
            settle_pending_after_seconds=(
                _number(e, "COUCHPAY_SETTLE_PENDING_AFTER_SECONDS", 300, 1) or 300
            ),
            abandon_3ds_after_seconds=(
                _number(e, "COUCHPAY_ABANDON_3DS_AFTER_SECONDS", 900, 1) or 900
            ),
            failpoint=e.get("COUCHPAY_FAILPOINT") or None,
            allowed_origins=tuple(
                o.strip().rstrip("/")
                for o in e.get("COUCHPAY_ALLOWED_ORIGINS", "").split(",")
                if o.strip()
            ),
            rate_limit=e.get("COUCHPAY_RATE_LIMIT") or "20/40",
            jwks_url=e.get("COUCHPAY_JWKS_URL") or None,
            token_issuer=e.get("COUCHPAY_TOKEN_ISSUER") or None,
            token_audience=e.get("COUCHPAY_TOKEN_AUDIENCE") or None,
            web_dir=Path(e["COUCHPAY_WEB_DIR"]) if e.get("COUCHPAY_WEB_DIR") else None,
            dev_sign_in_opt_in=(e.get("COUCHPAY_DEV_SIGN_IN") or "").lower() in TRUE_WORDS,
            webhook_max_bytes=_positive(e, "COUCHPAY_WEBHOOK_MAX_BYTES", 256 * 1024),
            handshake_timeout_seconds=_positive(e, "COUCHPAY_HANDSHAKE_TIMEOUT", 10),
            max_connections=_positive(e, "COUCHPAY_MAX_CONNECTIONS", 500),
            max_sockets_per_user=_positive(e, "COUCHPAY_MAX_SOCKETS_PER_USER", 10),
            user_rate_limit=e.get("COUCHPAY_USER_RATE_LIMIT") or "40/80",
            stripe_writes_per_minute=_positive(e, "COUCHPAY_STRIPE_WRITES_PER_MINUTE", 20),
            events_urls=_urls(e.get("COUCHPAY_EVENTS_URLS", "")),
            events_secret=e.get("COUCHPAY_EVENTS_SECRET") or None,
            events_every_seconds=_number(e, "COUCHPAY_EVENTS_EVERY_SECONDS", 1, 0.05) or 1,
            events_retry_base_seconds=(
                _number(e, "COUCHPAY_EVENTS_RETRY_BASE_SECONDS", 5, 0.01) or 5
            ),
            events_retry_max_seconds=(
                _number(e, "COUCHPAY_EVENTS_RETRY_MAX_SECONDS", 3600, 0.01) or 3600
            ),
        )
        config.check_sign_in()
        if config.events_urls and not config.events_secret:
            raise ConfigError(
                "COUCHPAY_EVENTS_URLS needs COUCHPAY_EVENTS_SECRET (events are never sent unsigned)"
            )
        return config

    def check_sign_in(self) -> None:
        """Local sign-in is never allowed next to a live Stripe key, whatever else is set."""
        if self.dev_sign_in_opt_in and is_live_key(self.stripe_secret_key):
            raise ConfigError(
                "COUCHPAY_DEV_SIGN_IN is refused with a live Stripe key (sk_live_/rk_live_):"
                " local sign-in lets anyone on this host sign in as any user"
            )

    @property
    def live(self) -> bool:
        """A live-mode Stripe key (real money); an unknown shape counts as live."""
        return is_live_key(self.stripe_secret_key)

    @property
    def line_rate(self) -> float:
        """Purchases a second the line sends to Stripe. Stripe allows 25 PaymentIntent
        creations a second (its default per-endpoint limit) and 100 requests a second per
        account in live mode, 25 in test mode: live, 24 (a little under the endpoint limit);
        test, 20 (leaving the account's other calls, webhook re-reads and card saves, room)."""
        if self.stripe_rate is not None:
            return self.stripe_rate
        return LIVE_STRIPE_RATE if self.live else TEST_STRIPE_RATE

    @property
    def dev_sign_in(self) -> bool:
        """Local sign-in (dev tokens, the page's sign-in by name), as SPEC's Identity says: never
        beside an identity provider; on by default only with no Stripe key (the offline demo);
        with a test key only when COUCHPAY_DEV_SIGN_IN opts in; never with a live key."""
        if self.jwks_url is not None:
            return False
        if self.stripe_secret_key is None:
            return True
        return self.dev_sign_in_opt_in and not is_live_key(self.stripe_secret_key)

    @property
    def web_dist(self) -> Path:
        """The built page: $COUCHPAY_WEB_DIR, else web/dist of this checkout."""
        return self.web_dir or Path(__file__).resolve().parents[2] / "web" / "dist"

    @property
    def offline(self) -> bool:
        """No Stripe key: run against an embedded localstripe."""
        return self.stripe_secret_key is None

    @property
    def sqlite_path(self) -> Path:
        db = self.database
        if db and db.startswith("sqlite:///"):
            return Path(db.removeprefix("sqlite:///"))
        return self.data_dir / "couchpay.sqlite3"

    @property
    def localstripe_url_file(self) -> Path:
        """Written by an offline `couchpay serve`: where its embedded localstripe listens."""
        return self.data_dir / "localstripe.url"

    @property
    def dev_key_file(self) -> Path:
        return self.data_dir / "dev-signing.key"
