"""Composition root: builds the store, the gateway, identity and services from a Config.

Nothing connects at import; ``start()`` does, and ``Runtime.close()`` undoes it."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from couchpay.adapters.connections import LocalConnections
from couchpay.config import Config, ConfigError, OperatorError
from couchpay.domain.errors import Unauthorized
from couchpay.ports.gateway import PaymentGateway
from couchpay.ports.identity import Caller, TokenVerifier
from couchpay.ports.notifier import Notifier
from couchpay.ports.store import Store
from couchpay.service.context import Pricing, Services
from couchpay.service.queries import seed_demo_catalog

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

    config.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteStore(config.sqlite_path)


def build_gateway(key: str, api_base: str | None) -> PaymentGateway:
    from couchpay.adapters.stripe_gateway import StripeGateway

    return StripeGateway(key, api_base=api_base)


def start(config: Config, notifier: Notifier | None = None) -> Runtime:
    """``notifier``: how settled purchases reach users' sockets (default: this process's)."""
    closers: list[Callable[[], None]] = []
    config.data_dir.mkdir(parents=True, exist_ok=True)
    key = config.stripe_secret_key or OFFLINE_SECRET_KEY
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
            config.localstripe_url_file.write_text(api_base or "")

        closers.append(lambda: config.localstripe_url_file.unlink(missing_ok=True))

    store = build_store(config)
    closers.append(store.close)
    connections = LocalConnections()
    services = Services(
        store=store,
        gateway=build_gateway(key, api_base),
        notifier=notifier or connections,
        pricing=Pricing(currency=config.currency, streaming_rate=config.streaming_rate),
        duplicate_wait_seconds=config.duplicate_wait_seconds,
        failpoint=config.failpoint,
    )
    seed_demo_catalog(services)
    return Runtime(
        config=config,
        services=services,
        tokens=build_sign_in(config),
        connections=connections,
        publishable_key=config.stripe_publishable_key or OFFLINE_PUBLISHABLE_KEY,
        stripe_api_base=api_base or "https://api.stripe.com",
        webhook_secret=webhook_secret,
        on_listening=on_listening,
        closers=closers,
    )


def open_for_operator(config: Config, *, needs_stripe: bool) -> Services:
    """Services for an operator command run beside (or without) the server.

    Offline, the Stripe of record is the localstripe embedded in a running ``couchpay serve``;
    it is found through a file the server writes in the data dir."""
    store = build_store(config)
    key = config.stripe_secret_key or OFFLINE_SECRET_KEY
    api_base = config.stripe_api_base
    if needs_stripe and config.offline and api_base is None:
        try:
            api_base = config.localstripe_url_file.read_text().strip() or None
        except FileNotFoundError:
            api_base = None
        if api_base is None:
            store.close()
            raise OperatorError(
                "offline, this command talks to the localstripe of a running `couchpay serve`: "
                "start it first with the same COUCHPAY_DATA_DIR, or set STRIPE_API_BASE"
            )
    return Services(
        store=store,
        gateway=build_gateway(key, api_base),
        pricing=Pricing(currency=config.currency, streaming_rate=config.streaming_rate),
    )


@contextlib.contextmanager
def operator_services(config: Config, *, needs_stripe: bool) -> Iterator[Services]:
    """``open_for_operator`` for the length of a ``with`` block; the store is closed after."""
    svc = open_for_operator(config, needs_stripe=needs_stripe)
    try:
        yield svc
    finally:
        svc.store.close()
