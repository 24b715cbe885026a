"""`couchpay offline-stripe`, as an operator runs it: it prints where it listens, couchpay's
Stripe adapter works against it (including the API version's `allowed_payment_method_types`,
which a stock localstripe refuses), and its state outlives a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import stripe

from couchpay.adapters.stripe_gateway import StripeGateway
from couchpay.bootstrap import OFFLINE_SECRET_KEY


def start(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "couchpay.entrypoints.cli", "offline-stripe"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "COUCHPAY_DATA_DIR": str(data_dir)},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("STRIPE_API_BASE="):
            return proc, line.strip().split("=", 1)[1]
    proc.kill()
    pytest.fail("couchpay offline-stripe never printed STRIPE_API_BASE=")


def stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(15)


def test_offline_stripe_serves_couchpay_and_keeps_its_state(data_dir: Path) -> None:
    proc, url = start(data_dir)
    try:
        assert url.startswith("http://127.0.0.1:")
        gateway = StripeGateway(OFFLINE_SECRET_KEY, api_base=url)
        customer = gateway.create_customer("fan-1", "cus-fan-1")
        intent = gateway.create_setup_intent(customer, "seti-1", {"user_id": "fan-1"})
        assert intent.client_secret
    finally:
        assert stop(proc) == 0
    assert (data_dir / "offline-stripe.pickle").stat().st_mode & 0o777 == 0o600

    proc, url = start(data_dir)
    try:
        client = stripe.StripeClient(OFFLINE_SECRET_KEY, base_addresses={"api": url})
        assert client.v1.customers.retrieve(customer).id == customer
    finally:
        stop(proc)
