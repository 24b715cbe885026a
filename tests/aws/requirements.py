"""Skip, or fail under ./scripts/test (COUCHPAY_REQUIRE_AWS=1), when a tool is missing."""

from __future__ import annotations

import os

import pytest


def need(reason: str | None, what: str) -> None:
    if reason is None:
        return
    message = f"{what}: {reason}"
    if os.environ.get("COUCHPAY_REQUIRE_AWS") == "1":
        pytest.fail(f"{message} (required: COUCHPAY_REQUIRE_AWS=1)", pytrace=False)
    pytest.skip(message)
