"""Red-team findings 2, 3, 6 and the HTTP part of 9, reproduced with raw sockets from "outside"
(127.0.0.2): webhook bodies are capped, unfinished handshakes and over-long request lines end,
connections are capped, every log line is JSON, every page carries security headers, and
malformed signed webhooks get a final answer."""

from __future__ import annotations

import json
import select
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from couchpay.client import CouchpayClient
from tests.e2e.conftest import Server, start_server
from tests.e2e.test_http import signed

OUTSIDE = "127.0.0.2"
MB = 1024 * 1024
MAX_CONNECTIONS = 30


@dataclass
class Bounded:
    server: Server
    proc: subprocess.Popen[str]
    port: int

    def dial(self, timeout: float = 30) -> socket.socket:
        """A raw TCP connection from outside loopback."""
        return socket.create_connection(
            ("127.0.0.1", self.port), timeout=timeout, source_address=(OUTSIDE, 0)
        )

    def peak_rss(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return next(int(line.split()[1]) * 1024 for line in status.splitlines() if "VmHWM" in line)


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bounded]:
    data_dir = tmp_path_factory.mktemp("bounded")
    env = {"COUCHPAY_HANDSHAKE_TIMEOUT": "2", "COUCHPAY_MAX_CONNECTIONS": str(MAX_CONNECTIONS)}
    proc, url = start_server(data_dir, data_dir / "server.log", env)
    try:
        api_base = httpx.get(f"{url}/config").json()["stripeApiBase"]
        server = Server(url, data_dir, api_base, data_dir / "server.log")
        yield Bounded(server, proc, int(url.rsplit(":", 1)[1]))
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (or stops sending for the timeout)."""
    got = b""
    try:
        while chunk := sock.recv(65536):
            got += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return got


# --- finding 2: webhook bodies -------------------------------------------------------------------
def huge_declared_post(bounded: Bounded) -> bytes:
    with bounded.dial() as sock:
        sock.sendall(
            b"POST /stripe/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (64 * MB)
        )
        sock.sendall(b"{" * 65536)
        return answer(sock)


def huge_chunked_post(bounded: Bounded) -> tuple[bytes, int]:
    """Stream a 64 MB chunked body until the server answers; (answer, bytes sent)."""
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    sent = 0
    with bounded.dial() as sock:
        sock.sendall(
            b"POST /stripe/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        while sent < 64 * MB:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        return answer(sock), sent


def test_huge_webhook_bodies_get_413_before_being_read(bounded: Bounded) -> None:
    before = bounded.peak_rss()
    with ThreadPoolExecutor(8) as pool:
        declared = list(pool.map(lambda _: huge_declared_post(bounded), range(4)))
        chunked = list(pool.map(lambda _: huge_chunked_post(bounded), range(4)))
    assert all(reply.startswith(b"HTTP/1.1 413 ") for reply in declared)
    assert all(reply.startswith(b"HTTP/1.1 413 ") for reply, _ in chunked)
    assert all(sent < 32 * MB for _, sent in chunked)  # stopped long before 64 MB
    assert bounded.peak_rss() - before < 64 * MB  # the red team saw +628 MB


# --- finding 3: handshakes and connections -------------------------------------------------------
def test_an_unfinished_websocket_upgrade_is_closed(bounded: Bounded) -> None:
    with bounded.dial() as sock:
        sock.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
        assert answer(sock) == b""  # closed by the server, not by our 30 s timeout
        assert sock.recv(1) == b""


def test_a_request_line_over_8kb_gets_an_answer(bounded: Bounded) -> None:
    with bounded.dial() as sock:
        sock.sendall(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert answer(sock).startswith(b"HTTP/1.1 400 ")
    with bounded.dial() as sock:  # and one that never ends is not buffered forever
        sock.sendall(b"GET /" + b"a" * 20000)
        assert answer(sock).startswith(b"HTTP/1.1 400 ")


def test_connections_over_the_cap_are_refused_and_idle_ones_freed(bounded: Bounded) -> None:
    idle = [bounded.dial() for _ in range(MAX_CONNECTIONS)]
    try:
        with bounded.dial() as late:
            late.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert answer(late).startswith(b"HTTP/1.1 503 ")
        assert [answer(sock) for sock in idle] == [b""] * MAX_CONNECTIONS  # closed, unanswered
    finally:
        for sock in idle:
            sock.close()
    assert httpx.get(f"{bounded.server.url}/healthz").status_code == 200


# --- finding 6: every log line is JSON, uvicorn's too --------------------------------------------
async def test_log_lines_stay_json_whatever_the_request_id(bounded: Bounded) -> None:
    server = bounded.server
    async with await CouchpayClient.connect(server.ws_url, server.token("logger")) as c:
        for rid in ('token=\\"', 'token="', "token=\\", 'a\\"token=\\\\"'):
            reply = await c.call("get-items", request_id=rid)
            assert reply["requestId"] == rid
    with bounded.dial() as sock:  # uvicorn's own warning, "Invalid HTTP request received."
        sock.sendall(b"NOT HTTP\r\n\r\n")
        answer(sock)
    assert server.log is not None
    time.sleep(0.5)  # let the server flush its last lines
    entries = [json.loads(line) for line in server.log.read_text().splitlines() if line]
    frames = [e for e in entries if e.get("message") == "frame" and e["user_id"] == "logger"]
    assert len(frames) == 4
    assert any(e["logger"].startswith("uvicorn") for e in entries)


# --- finding 9: security headers, malformed signed webhooks --------------------------------------
def test_every_page_response_carries_security_headers(bounded: Bounded) -> None:
    url = bounded.server.url
    config = httpx.get(f"{url}/config").json()
    for path in ("/", "/config", "/healthz", "/no-such-page"):
        headers = httpx.get(f"{url}{path}").headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert config["stripeJsUrl"].split("/js.stripe.com")[0] in csp  # the offline Stripe.js
        assert "script-src 'self'" in csp and "'unsafe-eval'" not in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_malformed_signed_webhooks_get_a_final_answer(bounded: Bounded) -> None:
    url = f"{bounded.server.url}/stripe/webhook"
    for body in (b"[]", b'["evt"]', b'"evt_1"', b"42", b"null"):
        reply = httpx.post(url, content=body, headers=signed(body))
        assert reply.status_code == 400, body
    event_id = f"evt_empty_{time.time_ns()}"
    for kind in ("payment_intent.succeeded", "payment_method.detached", "setup_intent.succeeded"):
        event = {"id": f"{event_id}_{kind}", "type": kind, "data": {"object": {"id": ""}}}
        body = json.dumps(event).encode()
        first = httpx.post(url, content=body, headers=signed(body))
        again = httpx.post(url, content=body, headers=signed(body))
        assert first.status_code == 200 and first.json()["outcome"] == "ignored: no object id"
        assert again.status_code == 200 and again.json()["duplicate"] is True
