"""Red-team findings 1, 4 and 7, reproduced: who may get a local sign-in token, what a
WebSocket handshake with a rebinding Host gets, Cognito keys that cannot be fetched, and
sockets that outlive their token. A client "outside" binds to 127.0.0.2."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from couchpay.offline_stripe.process import LocalStripe
from tests.e2e.conftest import Server, running_server

OUTSIDE = "127.0.0.2"


def couchpay(data_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "COUCHPAY_"))}
    return subprocess.run(
        [sys.executable, "-m", "couchpay.entrypoints.cli", *args],
        env=clean | {"COUCHPAY_DATA_DIR": str(data_dir)} | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ask_token(server: Server, *, outside: bool = False, **headers: str) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=OUTSIDE if outside else "127.0.0.1")
    with httpx.Client(transport=transport) as http:
        return http.post(f"{server.url}/dev/token", json={"userId": "victim"}, headers=headers)


# --- finding 1: local sign-in only where SPEC allows it ------------------------------------------
@pytest.mark.parametrize(
    ("env", "why"),
    [
        ({"STRIPE_SECRET_KEY": "sk_live_123", "COUCHPAY_DEV_SIGN_IN": "1"}, "refused with a live"),
        ({"STRIPE_SECRET_KEY": "rk_live_123", "COUCHPAY_DEV_SIGN_IN": "1"}, "refused with a live"),
        ({"STRIPE_SECRET_KEY": "sk_live_123"}, "no sign-in"),
        ({"STRIPE_SECRET_KEY": "sk_test_123"}, "no sign-in"),
    ],
)
def test_with_stripe_keys_and_no_identity_provider_serve_refuses_to_start(
    tmp_path: Path, env: dict[str, str], why: str
) -> None:
    done = couchpay(tmp_path, env, "serve", "--port", "0")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("couchpay: ") and why in lines[0]
    assert "Traceback" not in done.stderr and "_live_123" not in done.stderr
    minted = couchpay(tmp_path, {"STRIPE_SECRET_KEY": "sk_live_123"}, "dev-token", "victim")
    assert minted.returncode == 1 and "local sign-in is off" in minted.stderr
    assert minted.stdout == ""


@pytest.fixture(scope="module")
def test_key_server(
    tmp_path_factory: pytest.TempPathFactory, localstripe: LocalStripe
) -> Iterator[Server]:
    """Real Stripe test keys (against localstripe), local sign-in opted in, and uvicorn told
    to trust every proxy's X-Forwarded-For (as in the red team's set-up)."""
    env = {
        "STRIPE_SECRET_KEY": "sk_test_couchpay_offline",
        "STRIPE_API_BASE": localstripe.api_base,
        "COUCHPAY_DEV_SIGN_IN": "1",
        "FORWARDED_ALLOW_IPS": "*",
    }
    with running_server(tmp_path_factory.mktemp("test-key"), env) as server:
        yield server


def test_a_token_only_for_a_direct_loopback_caller_naming_a_loopback_host(
    test_key_server: Server,
) -> None:
    server = test_key_server
    refused = {
        "outside": ask_token(server, outside=True),
        "outside, claiming loopback": ask_token(
            server, outside=True, **{"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"}
        ),
        "through a proxy that says so": ask_token(server, **{"X-Forwarded-For": "203.0.113.9"}),
        "RFC 7239 proxy": ask_token(server, Forwarded="for=203.0.113.9"),
        "DNS rebinding": ask_token(server, Host="evil.example"),
        "rebinding with a port": ask_token(server, Host="evil.example:8000"),
        "another loopback address": ask_token(server, Host="127.0.0.2"),
    }
    assert {name: r.status_code for name, r in refused.items()} == dict.fromkeys(refused, 404)
    assert all("token" not in r.text for r in refused.values())
    port = server.url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost"):
        granted = ask_token(server, Host=host)
        assert granted.status_code == 200 and granted.json()["userId"] == "victim"


def test_every_issued_token_is_logged_without_the_token(test_key_server: Server) -> None:
    server = test_key_server
    granted = ask_token(server)
    token = granted.json()["token"]
    assert server.log is not None
    deadline = time.monotonic() + 10
    issued: list[dict[str, object]] = []
    while not issued and time.monotonic() < deadline:
        lines = [json.loads(line) for line in server.log.read_text().splitlines() if line]
        issued = [e for e in lines if e.get("message") == "local sign-in token issued"]
        time.sleep(0.1)
    assert issued and issued[-1]["user_id"] == "victim" and issued[-1]["peer"] == "127.0.0.1"
    assert int(str(issued[-1]["expires_at"])) > time.time()
    assert token not in server.log.read_text()


async def test_a_socket_with_a_rebinding_host_is_refused_while_local_sign_in_is_on(
    test_key_server: Server,
) -> None:
    server = test_key_server
    token = ask_token(server).json()["token"]
    port = int(server.url.rsplit(":", 1)[1])
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(
            f"ws://evil.example:{port}/ws?token={token}",
            host="127.0.0.1",
            port=port,
            origin=websockets.Origin(f"http://evil.example:{port}"),
        )
    assert refused.value.response.status_code == 403
    own = await websockets.connect(f"ws://127.0.0.1:{port}/ws?token={token}")
    await own.send(json.dumps({"action": "get-items", "requestId": "r1"}))
    assert json.loads(await own.recv())["action"] == "get-items-resp-success"
    await own.close()


# --- finding 7: a socket ends when its token does -------------------------------------------------
async def test_a_socket_is_closed_when_its_token_expires(hostile_server: Server) -> None:
    token = hostile_server.token("short-lived", ttl=3)
    async with websockets.connect(f"{hostile_server.ws_url}?token={token}") as ws:
        await ws.send(json.dumps({"action": "get-items", "requestId": "before"}))
        assert json.loads(await ws.recv())["action"] == "get-items-resp-success"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(30):
                while True:
                    await ws.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "token expired")


# --- finding 4: Cognito keys that cannot be fetched -----------------------------------------------
class Blackhole:
    """A JWKS endpoint that accepts connections and never answers; counts the attempts."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/.well-known/jwks.json"

    def _accept(self) -> None:
        while True:
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def unknown_kid_token() -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    claims = {"sub": "x", "exp": int(time.time()) + 600, "iat": int(time.time())}
    return f"{part({'alg': 'RS256', 'kid': 'made-up'})}.{part(claims)}.c2ln"


async def test_unreachable_keys_answer_503_without_freezing_and_cool_down(
    tmp_path: Path,
) -> None:
    pool = Blackhole()
    env = {
        "COUCHPAY_JWKS_URL": pool.url,
        "COUCHPAY_TOKEN_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/pool",
        "COUCHPAY_TOKEN_AUDIENCE": "client",
    }
    try:
        with running_server(tmp_path, env) as server:
            url = f"{server.ws_url}?token={unknown_kid_token()}"

            async def dial() -> object:
                return await websockets.connect(url)

            first = asyncio.create_task(dial())
            while not pool.accepted:  # the fetch has started and hangs
                await asyncio.sleep(0.05)
            async with httpx.AsyncClient() as http:  # the event loop still answers meanwhile
                assert (await http.get(f"{server.url}/healthz")).status_code == 200
            assert not first.done()
            statuses = []
            for attempt in [first, *(dial() for _ in range(5))]:
                with pytest.raises(websockets.InvalidStatus) as refused:
                    await attempt
                statuses.append(refused.value.response.status_code)
            assert statuses == [503] * 6
            assert len(pool.accepted) == 1  # one fetch; the rest waited out the cool-down
            assert server.log is not None and "Traceback" not in server.log.read_text()
    finally:
        pool.close()
