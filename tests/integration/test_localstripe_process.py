"""The localstripe launcher and its process wrapper: loopback only, state only where asked."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import socket
import stat
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from couchpay.adapters.stripe_gateway import StripeGateway
from couchpay.domain.errors import PaymentRejected
from couchpay.offline_stripe.process import LocalStripe, LocalStripeError

SECRET_KEY = "sk_test_couchpay_process"
DEFAULT_PICKLE = Path("/tmp/localstripe.pickle")


def file_state(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size)


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) with a LISTEN socket on ``port``."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                address, port_hex = fields[1].rsplit(":", 1)
                if int(port_hex, 16) == port and fields[3] == "0A":
                    found.add(address)
    return found


def outward_ipv4_address() -> str | None:
    """This host's address on a non-loopback interface, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address: str = sock.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net/tcp")
def test_binds_loopback_only(localstripe: LocalStripe) -> None:
    assert localstripe.api_base == f"http://127.0.0.1:{localstripe.port}"
    assert (
        httpx.get(f"{localstripe.api_base}/js.stripe.com/v3/", trust_env=False).status_code == 200
    )

    assert listening_addresses(localstripe.port) == {"0100007F"}  # 127.0.0.1, and nothing else

    other = outward_ipv4_address()
    if other is not None:
        with pytest.raises(OSError):
            socket.create_connection((other, localstripe.port), timeout=2).close()


def test_store_file_is_used_instead_of_tmp(tmp_path: Path) -> None:
    before = file_state(DEFAULT_PICKLE)
    store = tmp_path / "localstripe.pickle"

    with LocalStripe(store_path=store) as server:
        customer = StripeGateway(SECRET_KEY, api_base=server.api_base).create_customer(
            "user-1", str(uuid.uuid4())
        )
        assert store.is_file()
        assert stat.S_IMODE(store.stat().st_mode) == 0o600  # it holds full test card numbers
        with store.open("rb") as f:
            assert f"customer:{customer}" in pickle.load(f)

    with LocalStripe(store_path=store) as server:  # a new process reads the state back
        response = httpx.get(
            f"{server.api_base}/v1/customers/{customer}",
            headers={"Authorization": f"Bearer {SECRET_KEY}"},
            trust_env=False,
        )
        assert response.status_code == 200

    assert file_state(DEFAULT_PICKLE) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["localstripe.pickle"]


def test_without_store_nothing_is_written(tmp_path: Path) -> None:
    before = file_state(DEFAULT_PICKLE)
    with LocalStripe() as server:
        StripeGateway(SECRET_KEY, api_base=server.api_base).create_customer(
            "user-1", str(uuid.uuid4())
        )
        server.flush()
    assert file_state(DEFAULT_PICKLE) == before


def test_a_store_in_a_missing_directory_fails_fast(tmp_path: Path) -> None:
    server = LocalStripe(store_path=tmp_path / "missing" / "store.pickle", startup_timeout=20)
    started = time.monotonic()
    with pytest.raises(LocalStripeError):
        server.start()
    assert time.monotonic() - started < 15
    assert not server.running


def test_flush_empties_data() -> None:
    # A private server: flushing the session one would pull state from under other tests.
    with LocalStripe() as server:
        gateway = StripeGateway(SECRET_KEY, api_base=server.api_base)
        customer = gateway.create_customer("user-1", str(uuid.uuid4()))
        response = httpx.get(
            f"{server.api_base}/v1/customers/{customer}",
            headers={"Authorization": f"Bearer {SECRET_KEY}"},
            trust_env=False,
        )
        assert response.status_code == 200

        server.flush()

        response = httpx.get(
            f"{server.api_base}/v1/customers/{customer}",
            headers={"Authorization": f"Bearer {SECRET_KEY}"},
            trust_env=False,
        )
        assert response.status_code == 404
        with pytest.raises(PaymentRejected):
            gateway.attach_payment_method("pm_gone", customer)


def test_stop_ends_the_process_and_frees_the_port() -> None:
    server = LocalStripe().start()
    port = server.port
    assert server.running
    server.stop()
    assert not server.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    server.stop()  # idempotent


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append((dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def hook_server() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Hook", (_Hook,), {"received": received}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/stripe/webhook", received
    finally:
        server.shutdown()
        server.server_close()


def test_register_webhook_delivers_signed_events(
    hook_server: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    url, received = hook_server
    secret = "whsec_" + os.urandom(8).hex()
    with LocalStripe() as server:
        server.register_webhook("couchpay", url, secret)
        customer = StripeGateway(SECRET_KEY, api_base=server.api_base).create_customer(
            "user-1", str(uuid.uuid4())
        )
        deadline = time.monotonic() + 15
        while not received and time.monotonic() < deadline:
            time.sleep(0.1)

    assert received, "localstripe sent no webhook"
    headers, body = received[0]
    event = json.loads(body)
    assert event["type"] == "customer.created"
    assert event["data"]["object"]["id"] == customer
    signature = dict(part.split("=", 1) for part in headers["Stripe-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{signature['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(signature["v1"], expected)
