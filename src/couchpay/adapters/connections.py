"""The local server's open sockets per user, so a webhook can tell a user's tabs.

A plain transport (``wire.push.Transport``): it moves frames and knows nothing of purchases."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


class LocalConnections:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_user: dict[str, dict[int, tuple[Send, asyncio.AbstractEventLoop]]] = {}

    def add(self, user_id: str, conn_id: int, send: Send) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            self._by_user.setdefault(user_id, {})[conn_id] = (send, loop)

    def remove(self, user_id: str, conn_id: int) -> None:
        with self._lock:
            conns = self._by_user.get(user_id, {})
            conns.pop(conn_id, None)
            if not conns:
                self._by_user.pop(user_id, None)

    def count(self, user_id: str) -> int:
        with self._lock:
            return len(self._by_user.get(user_id, {}))

    def notify(self, user_id: str, reply: dict[str, Any]) -> None:
        """Thread-safe: schedules the send on each connection's event loop."""
        with self._lock:
            targets = list(self._by_user.get(user_id, {}).values())
        for send, loop in targets:
            asyncio.run_coroutine_threadsafe(send(reply), loop)
