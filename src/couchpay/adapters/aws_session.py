"""One boto3 Session per process: building one costs ~45 ms of a Lambda cold start, and every
AWS client (DynamoDB, the API Gateway Management API) can share it. Created on first use."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from boto3.session import Session

_lock = threading.Lock()
_session: Session | None = None


def session() -> Session:
    global _session  # noqa: PLW0603 - the process-wide cache is the point
    with _lock:
        if _session is None:
            import boto3

            _session = boto3.session.Session()
        return _session
