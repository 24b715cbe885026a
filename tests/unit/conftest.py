from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from couchpay import bootstrap
from couchpay.config import Config
from couchpay.service.context import Services
from couchpay.wire.protocol import handle_frame
from tests.unit.fakes import FakeGateway, MemoryStore

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
Call = Callable[..., dict[str, Any]]


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def svc(store: MemoryStore, gateway: FakeGateway) -> Services:
    config = Config(data_dir=Path("unused"))
    services = bootstrap.build(
        config, store=store, gateway=gateway, now=lambda: NOW, seed_catalog=True
    )
    services.duplicate_wait_seconds = 0.2  # a copy of an unanswered purchase, over the fakes
    return services


@pytest.fixture
def call(svc: Services) -> Call:
    """Send one frame as a user (default u1) and return the reply envelope."""

    def send(
        action: str, message: dict[str, Any] | None = None, *, user: str = "u1", rid: str = "r1"
    ) -> dict[str, Any]:
        frame = json.dumps({"action": action, "message": message or {}, "requestId": rid})
        return handle_frame(svc, user, frame)

    return send
