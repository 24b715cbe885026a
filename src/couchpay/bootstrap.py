"""Composition root: builds the store, the gateway, identity and services from a Config.

Nothing connects at import; ``start()`` does, and ``Runtime.close()`` undoes it."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from couchpay.adapters.connections import LocalConnections
from couchpay.adapters.dev_tokens import DevTokens
from couchpay.config import Config
from couchpay.ports.gateway import PaymentGateway
from couchpay.ports.store import Store
from couchpay.service.context import Pricing, Services
from couchpay.service.queries import seed_demo_catalog

log = logging.getLogger(__name__)
OFFLINE_SECRET_KEY = "sk_test_couchpay_offline"  # noqa: S105 - only for localstripe
OFFLINE_PUBLISHABLE_KEY = "pk_test_couchpay_offline"


def _nothing(url: str) -> None:
    return None


@dataclass
class Runtime:
    config: Config
    services: Services
    tokens: DevTokens
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
    from couchpay.adapters.sqlite_store import SqliteStore

    config.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteStore(config.sqlite_path)


def build_gateway(key: str, api_base: str | None) -> PaymentGateway:
    from couchpay.adapters.stripe_gateway import StripeGateway

    return StripeGateway(key, api_base=api_base, max_network_retries=2)


def start(config: Config) -> Runtime:
    closers: list[Callable[[], None]] = []
    config.data_dir.mkdir(parents=True, exist_ok=True)
    key = config.stripe_secret_key or OFFLINE_SECRET_KEY
    api_base = config.stripe_api_base
    webhook_secret = config.stripe_webhook_secret
    on_listening: Callable[[str], None] = _nothing
    if config.offline and api_base is None:
        from couchpay.adapters.localstripe_process import LocalStripe

        embedded = LocalStripe(store_path=config.data_dir / "localstripe.pickle")
        embedded.start()
        closers.append(embedded.stop)
        api_base = embedded.api_base
        webhook_secret = webhook_secret or f"whsec_{secrets.token_hex(24)}"
        secret = webhook_secret

        def on_listening(url: str) -> None:
            embedded.register_webhook("couchpay", f"{url}/stripe/webhook", secret)

    store = build_store(config)
    closers.append(store.close)
    connections = LocalConnections()
    services = Services(
        store=store,
        gateway=build_gateway(key, api_base),
        notifier=connections,
        pricing=Pricing(currency=config.currency, streaming_rate=Fraction(10, 100)),
    )
    seed_demo_catalog(services)
    return Runtime(
        config=config,
        services=services,
        tokens=DevTokens(config.dev_key_file),
        connections=connections,
        publishable_key=config.stripe_publishable_key or OFFLINE_PUBLISHABLE_KEY,
        stripe_api_base=api_base or "https://api.stripe.com",
        webhook_secret=webhook_secret,
        on_listening=on_listening,
        closers=closers,
    )
