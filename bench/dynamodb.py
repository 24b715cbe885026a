"""A DynamoDB endpoint on 127.0.0.1 for the history benchmark: Amazon's DynamoDB Local when it can
run here (java, its jar from aws/node_modules, a network namespace), else moto's server.

DynamoDB Local is started by the tests' helper (``tests/aws/dynamodb_local.py``: the JVM in an
empty network namespace, reached through a loopback forwarder), with one change made here at run
time: the forwarder's sockets get ``TCP_NODELAY``. Without it every request pays Nagle's
algorithm against delayed ACKs, ~40 ms, a floor that would hide how a page's cost grows with the
table (measured: ``ListTables`` 44 ms -> 4 ms median). moto is a last resort: its Query walks
the whole table in Python, so its pages grow with the table whatever couchpay does."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from typing import Any

from bench.servers import REPO

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_LAUNCH = """
import socket, sys
import tests.aws.dynamodb_local as helper

_forward, _connect = helper._forward, socket.create_connection

def connect_nodelay(*args, **kwargs):
    sock = _connect(*args, **kwargs)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock

def forward_nodelay(client):
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    _forward(client)

helper.socket.create_connection = connect_nodelay
helper._forward = forward_nodelay
sys.exit(helper.main())
"""


def start_moto() -> tuple[Any, str]:
    """moto's server in a thread of this process, on 127.0.0.1: (server, endpoint)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{server.get_host_and_port()[1]}"


class DynamoDbServer:
    kind = ""
    endpoint = ""

    def __init__(self, prefer: str = "auto", startup_timeout: float = 120.0) -> None:
        from tests.aws.dynamodb_local import unavailable_reason

        self._proc: subprocess.Popen[str] | None = None
        self._moto: Any = None
        self._client: Any = None
        self.why_not_local = "moto asked for" if prefer == "moto" else unavailable_reason()
        if self.why_not_local is None:
            self._start_local(startup_timeout)
        else:
            self._start_moto()

    def _start_local(self, timeout: float) -> None:
        self._proc = subprocess.Popen(  # noqa: S603 - our interpreter, the tests' helper
            [sys.executable, "-c", _LAUNCH],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert self._proc.stdout is not None
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(self._proc.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith("READY "):
            self.stop()
            raise RuntimeError(f"DynamoDB Local did not start: {line}")
        self.kind = "DynamoDB Local"
        self.endpoint = f"http://127.0.0.1:{int(line[0].split()[1])}"

    def _start_moto(self) -> None:
        self._moto, self.endpoint = start_moto()
        self.kind = "moto"

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        if self._client is None:
            self._client = boto3.session.Session().client(
                "dynamodb",
                region_name=REGION,
                endpoint_url=self.endpoint,
                config=Config(max_pool_connections=32, retries={"mode": "standard"}),
                **CREDENTIALS,
            )
        return self._client

    def stop(self) -> None:
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.close()  # the helper stops the JVM when its stdin closes
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
