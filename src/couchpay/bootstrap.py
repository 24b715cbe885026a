"""The composition root: the one place that turns a Config into working parts.

``build`` makes the ``Services`` every use case runs on (store, Stripe gateway, notifier,
pricing, clock) from a Config; any part passed in is used as is, which is how the unit tests
put in-memory fakes in. Everything else composes through it: ``start`` (``couchpay serve`` and
the Lambda runtime: an embedded offline Stripe when there is no key, pushes through a
transport), ``open_for_operator`` / ``operator_services`` (the CLI and the scheduled jobs).
Nothing connects at import; ``start()`` does, and ``Runtime.close()`` undoes it."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from couchpay.adapters.connections import LocalConnections
from couchpay.config import Config, ConfigError, OperatorError
from couchpay.domain.errors import Unauthorized
from couchpay.file_modes import private_dir, private_file
from couchpay.ports.gateway import PaymentGateway
from couchpay.ports.identity import Caller, TokenVerifier
from couchpay.ports.metrics import Metrics
from couchpay.ports.notifier import Notifier, NullNotifier
from couchpay.ports.store import Store
from couchpay.service.admission import Line, LineSettings
from couchpay.service.catalog_admin import seed_if_fresh
from couchpay.service.context import Pricing, Services, utc_now
from couchpay.service.showtime import SettleTimes
from couchpay.wire.push import PushNotifier, Transport

log = logging.getLogger(__name__)
OFFLINE_SECRET_KEY = "sk_test_couchpay_offline"  # noqa: S105 - only for localstripe
OFFLINE_PUBLISHABLE_KEY = "pk_test_couchpay_offline"


def _nothing(url: str) -> None:
    return None


class SignIn(TokenVerifier):
    """The verifier in use (the identity provider's, or the local dev key's), built on first use
    (it loads PyJWT and cryptography, which a cold start that never checks a token can skip),
    and dev-token minting for the local sign-in page, which only works while dev sign-in is on."""

    def __init__(self, config: Config) -> None:
        if not config.dev_sign_in and config.jwks_url is None:
            raise ConfigError(
                "no sign-in: with STRIPE_SECRET_KEY set, configure an identity provider"
                " (COUCHPAY_JWKS_URL, COUCHPAY_TOKEN_ISSUER, COUCHPAY_TOKEN_AUDIENCE), or, with"
                " a test key only, opt in to local sign-in with COUCHPAY_DEV_SIGN_IN=1"
            )
        if not config.dev_sign_in and not (config.token_issuer and config.token_audience):
            raise ConfigError(
                "COUCHPAY_JWKS_URL needs COUCHPAY_TOKEN_ISSUER and COUCHPAY_TOKEN_AUDIENCE"
                " (the user pool's issuer URL and app client id)"
            )
        self.config = config
        self._verifier: TokenVerifier | None = None

    @property
    def verifier(self) -> TokenVerifier:
        if self._verifier is None:
            c = self.config
            if c.dev_sign_in:
                from couchpay.adapters.dev_tokens import DevTokens

                self._verifier = DevTokens(c.dev_key_file)
            else:
                from couchpay.adapters.cognito_tokens import CognitoTokens

                self._verifier = CognitoTokens(
                    c.jwks_url or "", c.token_issuer or "", c.token_audience or ""
                )
        return self._verifier

    def verify(self, token: str) -> str:
        return self.verifier.verify(token)

    def caller(self, token: str) -> Caller:
        return self.verifier.caller(token)

    def mint(self, user_id: str, ttl_seconds: int | None = None, email: str | None = None) -> str:
        from couchpay.adapters.dev_tokens import DevTokens

        verifier = self.verifier
        if not isinstance(verifier, DevTokens):
            raise Unauthorized("Dev sign-in is off: an identity provider is configured.")
        return verifier.mint(user_id, ttl_seconds, email)


def build_sign_in(config: Config) -> SignIn:
    """Cognito (JWKS) tokens when COUCHPAY_JWKS_URL is set; otherwise local dev tokens."""
    return SignIn(config)


@dataclass
class Runtime:
    config: Config
    services: Services
    tokens: SignIn
    connections: LocalConnections
    publishable_key: str
    stripe_api_base: str
    webhook_secret: str | None
    on_listening: Callable[[str], None] = _nothing
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def stripe_js_url(self) -> str:
        if self.config.offline:
            return f"{self.stripe_api_base}/js.stripe.com/v3/"
        return "https://js.stripe.com/v3/"

    def close(self) -> None:
        while self.closers:
            self.closers.pop()()


def build_store(config: Config) -> Store:
    if config.database and config.database.startswith("dynamodb://"):
        from couchpay.adapters.dynamodb_store import DynamoDbStore

        try:
            return DynamoDbStore.from_url(config.database)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
    from couchpay.adapters.sqlite_store import SqliteStore

    private_dir(config.data_dir)
    return SqliteStore(config.sqlite_path)


def build_gateway(key: str, api_base: str | None, *, paced: bool = False) -> PaymentGateway:
    """``paced``: an admission line paces the PaymentIntents and takes Stripe's 429s back."""
    from couchpay.adapters.stripe_gateway import StripeGateway

    return StripeGateway(key, api_base=api_base, paced=paced)


def build(
    config: Config,
    *,
    store: Store | None = None,
    gateway: PaymentGateway | None = None,
    notifier: Notifier | None = None,
    stripe_api_base: str | None = None,
    now: Callable[[], datetime] = utc_now,
    line: Line | None = None,
    metrics: Metrics | None = None,
    seed_catalog: bool = False,
) -> Services:
    """The services for ``config``. A part that is not given is made from ``config`` (the store
    from ``COUCHPAY_DB``; Stripe at ``stripe_api_base``, else ``STRIPE_API_BASE``, else
    api.stripe.com); ``seed_catalog`` gives a database that never had a catalog the demo one."""
    key = config.stripe_secret_key or OFFLINE_SECRET_KEY
    services = Services(
        store=store if store is not None else build_store(config),
        gateway=gateway
        or build_gateway(key, stripe_api_base or config.stripe_api_base, paced=line is not None),
        notifier=notifier or NullNotifier(),
        pricing=Pricing(currency=config.currency, streaming_rate=config.streaming_rate),
        now=now,
        line=line,
        metrics=metrics or Metrics(),
        failpoint=config.failpoint,
    )
    if seed_catalog:
        seed_if_fresh(services)
    return services


def settle_times(config: Config) -> SettleTimes:
    """When the settlement pass settles an open purchase (``COUCHPAY_SETTLE_*``)."""
    return SettleTimes(
        pending_after=timedelta(seconds=config.settle_pending_after_seconds),
        abandon_after=timedelta(seconds=config.abandon_3ds_after_seconds),
    )


def build_line(config: Config) -> Line:
    return Line(
        LineSettings(
            rate=config.line_rate,
            max_length=config.line_max,
            max_wait_seconds=config.line_max_wait_seconds,
        )
    )


def start(config: Config, transport: Transport | None = None, *, with_line: bool = True) -> Runtime:
    """``couchpay serve`` (and the Lambda runtime): the services, sign-in and, offline, an
    embedded offline Stripe. ``transport``: how pushes reach users' sockets (default: this
    process's own connections). ``with_line``: an admission line in this process (the local
    server runs it; see ``entrypoints.line_runner``)."""
    tokens = build_sign_in(config)  # a sign-in that cannot work refuses before anything starts
    closers: list[Callable[[], None]] = []
    private_dir(config.data_dir)
    api_base = config.stripe_api_base
    webhook_secret = config.stripe_webhook_secret
    on_listening: Callable[[str], None] = _nothing
    if config.offline and api_base is None:
        from couchpay.offline_stripe.process import LocalStripe

        embedded = LocalStripe(store_path=config.data_dir / "localstripe.pickle")
        embedded.start()
        closers.append(embedded.stop)
        api_base = embedded.api_base
        webhook_secret = webhook_secret or f"whsec_{secrets.token_hex(24)}"
        secret = webhook_secret

        def on_listening(url: str) -> None:
            embedded.register_webhook("couchpay", f"{url}/stripe/webhook", secret)
            private_file(config.localstripe_url_file).write_text(api_base or "")

        closers.append(lambda: config.localstripe_url_file.unlink(missing_ok=True))

    store = build_store(config)
    closers.append(store.close)
    connections = LocalConnections()
    line = build_line(config) if with_line else None
    metrics = Metrics()
    if with_line:
        from couchpay.adapters.prometheus_metrics import PrometheusMetrics

        metrics = PrometheusMetrics(line)
    services = build(
        config,
        store=store,
        notifier=PushNotifier(transport or connections),
        stripe_api_base=api_base,
        line=line,
        metrics=metrics,
        seed_catalog=True,
    )
    return Runtime(
        config=config,
        services=services,
        tokens=tokens,
        connections=connections,
        publishable_key=config.stripe_publishable_key or OFFLINE_PUBLISHABLE_KEY,
        stripe_api_base=api_base or "https://api.stripe.com",
        webhook_secret=webhook_secret,
        on_listening=on_listening,
        closers=closers,
    )


def open_for_operator(config: Config, *, needs_stripe: bool) -> Services:
    """Services for an operator command run beside (or without) the server.

    Offline, the Stripe of record is the offline Stripe embedded in a running ``couchpay serve``
    (found through a file the server writes in the data dir) or a ``couchpay offline-stripe``
    named by ``STRIPE_API_BASE``."""
    store = build_store(config)
    api_base = config.stripe_api_base
    if needs_stripe and config.offline and api_base is None:
        try:
            api_base = config.localstripe_url_file.read_text().strip() or None
        except FileNotFoundError:
            api_base = None
        if api_base is None:
            store.close()
            raise OperatorError(
                "offline, this command talks to the Stripe of a running `couchpay serve`: "
                "start it first with the same COUCHPAY_DATA_DIR, or run `couchpay offline-stripe`"
                " and set STRIPE_API_BASE to the URL it prints"
            )
    return build(config, store=store, stripe_api_base=api_base)


@contextlib.contextmanager
def operator_services(config: Config, *, needs_stripe: bool) -> Iterator[Services]:
    """``open_for_operator`` for the length of a ``with`` block; the store is closed after."""
    svc = open_for_operator(config, needs_stripe=needs_stripe)
    try:
        yield svc
    finally:
        svc.store.close()
