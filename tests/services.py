"""Services for tests, made by the one composition root (``bootstrap.build``) with the ports a
test brings (in-memory fakes, a real SQLite file, a gateway through a fault proxy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from couchpay import bootstrap
from couchpay.config import Config
from couchpay.ports.gateway import PaymentGateway
from couchpay.ports.store import Store
from couchpay.service.context import Services


def services(store: Store, gateway: PaymentGateway, **parts: Any) -> Services:
    """``bootstrap.build`` over the default configuration (nothing read from the environment)."""
    return bootstrap.build(Config(data_dir=Path("unused")), store=store, gateway=gateway, **parts)
