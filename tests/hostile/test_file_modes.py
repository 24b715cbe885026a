"""Red-team finding 9 (data on disk): the database, its WAL, the signing key and the data
directory were world-readable (0644/0755). A fresh `couchpay serve` now creates the directory
0700 and every file in it 0600, whatever the umask it was started with."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx

from tests.e2e.conftest import start_server


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_data_dir_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"  # does not exist yet
    previous = os.umask(0o022)  # the usual umask, which made 0644/0755 before
    try:
        proc, url = start_server(data_dir, tmp_path / "server.log")
    finally:
        os.umask(previous)
    try:
        token = httpx.post(f"{url}/dev/token", json={"userId": "fan"})
        assert token.status_code == 200  # the signing key now exists
        files = {p.name: mode(p) for p in data_dir.iterdir()}
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert mode(data_dir) == 0o700
    expected = {"couchpay.sqlite3", "couchpay.sqlite3-wal", "couchpay.sqlite3-shm"}
    assert expected | {"dev-signing.key", "localstripe.url"} <= set(files)
    assert files == dict.fromkeys(files, 0o600)
