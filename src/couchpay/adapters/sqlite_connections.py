"""SQLite connections for the store: one per thread, in autocommit mode; every read-modify-write
runs inside ``BEGIN IMMEDIATE`` (``_write``), so conditional writes are atomic across threads and
across processes. WAL journal, ``synchronous=NORMAL``, a busy timeout, foreign keys on; the schema
is migrated when the file is opened."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from couchpay.adapters.sqlite_schema import enable_wal, migrate
from couchpay.file_modes import private_file

BUSY_TIMEOUT_MS = 10_000


class SqliteConnections:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:" and not self.path.startswith("file:"):
            private_file(Path(self.path))  # 0600 before SQLite opens it; WAL/SHM inherit it
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        migrate(self._conn())

    # connections ---------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,  # used by its own thread only; close() may run elsewhere
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        enable_wal(conn, BUSY_TIMEOUT_MS / 1000)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if self._closed:
            raise RuntimeError("the store is closed")
        if conn is None:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the store is closed")
                conn = self._open()
                self._all.append(conn)
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the database's write lock from its first statement."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._all = self._all, []
        for conn in conns:
            with suppress(sqlite3.Error):  # e.g. busy in another thread: nothing more to do
                conn.close()
