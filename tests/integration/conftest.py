"""Fixtures shared by the operator-command tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty COUCHPAY_DATA_DIR, and no STRIPE_/COUCHPAY_ setting from outside."""
    for name in list(os.environ):
        if name.startswith(("STRIPE_", "COUCHPAY_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COUCHPAY_DATA_DIR", str(tmp_path))
    return tmp_path
