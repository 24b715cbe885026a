"""A real `couchpay serve` process (with its embedded localstripe) for the end-to-end suite.

Set COUCHPAY_E2E_URL (http://host:port) and COUCHPAY_E2E_DATA_DIR to run the same suite against
a server started elsewhere. COUCHPAY_E2E_TARGET=sls runs it against aws/serverless.yml on
serverless-offline instead (tests/aws/e2e_target.py); tests of the local server itself are
marked ``local_only`` there (LOCAL_ONLY below) and skipped."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from couchpay.adapters.dev_tokens import DevTokens
from couchpay.client import CouchpayClient

WEBHOOK_SECRET = "whsec_e2e_only_not_a_real_secret"
MINTED: list[str] = []  # every sign-in token handed out, for the log scan


@dataclass
class Server:
    url: str
    data_dir: Path
    stripe_api_base: str
    log: Path | None = None

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/ws"

    def token(self, user_id: str, ttl: int = 600, email: str | None = None) -> str:
        token = DevTokens(self.data_dir / "dev-signing.key").mint(user_id, ttl, email)
        MINTED.append(token)
        return token

    async def client(self, user_id: str, email: str | None = None) -> CouchpayClient:
        return await CouchpayClient.connect(self.ws_url, self.token(user_id, email=email))


def start_server(
    data_dir: Path, log_file: Path, extra_env: dict[str, str] | None = None, port: int = 0
) -> tuple[subprocess.Popen[str], str]:
    """Start `couchpay serve` offline; return the process and its base URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    env["COUCHPAY_DATA_DIR"] = str(data_dir)
    env["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    env.update(extra_env or {})
    with open(log_file, "a") as log:  # the child keeps its own handle
        proc = subprocess.Popen(
            [sys.executable, "-m", "couchpay.entrypoints.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("couchpay serving at "):
            return proc, line.split()[3].rstrip("/")
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"couchpay serve did not start: {log_file.read_text()}")


E2E_TARGET = os.environ.get("COUCHPAY_E2E_TARGET", "local")
LOCAL_ONLY = (  # what only `couchpay serve` has: its HTTP side, its process, its files
    "tests/e2e/test_http.py::",
    "tests/e2e/test_serve_lifecycle.py::",
    "tests/e2e/test_zz_log_scan.py::",
    "tests/e2e/test_access.py::test_dev_token_command_prints_a_token_on_its_last_line",
    "tests/e2e/test_receipts.py::test_a_total_under_stripes_minimum_is_refused",
)


@pytest.hookimpl(tryfirst=True)  # before -m "not local_only" deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(LOCAL_ONLY):
            item.add_marker(pytest.mark.local_only)
        if E2E_TARGET == "sls" and item.get_closest_marker("local_only"):
            item.add_marker(pytest.mark.skip(reason="local server only (COUCHPAY_E2E_TARGET=sls)"))


@contextlib.contextmanager
def running_server(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """`couchpay serve` on a free port for the length of a ``with`` block, stopped after."""
    proc, url = start_server(data_dir, data_dir / "server.log", extra_env)
    try:
        api_base = httpx.get(f"{url}/config").json()["stripeApiBase"]
        yield Server(url, data_dir, api_base, data_dir / "server.log")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    if E2E_TARGET == "sls":
        from tests.aws.e2e_target import sls_server

        with sls_server(
            tmp_path_factory.mktemp("sls-e2e"), request.getfixturevalue("localstripe")
        ) as sls:
            yield sls
        return
    external = os.environ.get("COUCHPAY_E2E_URL")
    if external:
        data_dir = Path(os.environ["COUCHPAY_E2E_DATA_DIR"])
        api_base = httpx.get(f"{external}/config").json()["stripeApiBase"]
        yield Server(external.rstrip("/"), data_dir, api_base)
        return
    with running_server(tmp_path_factory.mktemp("couchpay-e2e")) as local:
        yield local


@dataclass
class Fan:
    user_id: str
    client: CouchpayClient


def new_user(name: str) -> str:
    return f"{name}-{time.monotonic_ns()}"


@pytest.fixture
async def alice(server: Server) -> AsyncIterator[Fan]:
    user_id = new_user("alice")
    client = await server.client(user_id)
    yield Fan(user_id, client)
    await client.close()


@pytest.fixture
async def bob(server: Server) -> AsyncIterator[Fan]:
    user_id = new_user("bob")
    client = await server.client(user_id)
    yield Fan(user_id, client)
    await client.close()
