"""Who may read what couchpay keeps on disk: only the user it runs as.

The data directory is created 0700 and every file in it (the SQLite database, and the WAL and
shared-memory files SQLite derives from it with the same mode, the dev signing key, the
embedded localstripe's store) is created 0600: the mode is given at creation (``os.open`` with a
mode, under a umask of 077), never fixed up afterwards, so there is no moment a file is readable
by others. Files that already exist keep the mode they have."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Files and directories created inside the block are readable by their owner only."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; an existing one is left as it is."""
    with private_umask():
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 unless it exists (a race with another process that
    creates it first is fine: theirs is kept)."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    return path
