"""`couchpay serve` on a machine that has nothing yet, and what it leaves behind when it stops."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import start_server


def embedded_localstripes(data_dir: Path) -> list[int]:
    """Pids of localstripe processes keeping their store in ``data_dir``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            continue
        if "offline_stripe.server" in cmdline and str(data_dir) in cmdline:
            found.append(int(proc.name))
    return found


def gone_within(data_dir: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not embedded_localstripes(data_dir):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_fresh_data_dir_then_nothing_left_running(tmp_path: Path, how: signal.Signals) -> None:
    data_dir = tmp_path / "not" / "there" / "yet"
    proc, url = start_server(data_dir, tmp_path / "server.log")
    try:
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        assert (data_dir / "couchpay.sqlite3").exists()
        assert len(embedded_localstripes(data_dir)) == 1
        proc.send_signal(how)
        proc.wait(timeout=15)
        assert gone_within(data_dir, 10), "the embedded localstripe outlived couchpay serve"
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in embedded_localstripes(data_dir):
            subprocess.run(["kill", "-9", str(pid)], check=False)
