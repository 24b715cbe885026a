"""Who may use local sign-in (``POST /dev/token``), and the trace every issued token leaves.

Local sign-in is for the offline demo on the developer's own machine (``Config.dev_sign_in``
says when it is on at all). A request may mint a token only when
- its raw peer address (the TCP connection's, never ``X-Forwarded-For`` or any other header) is
  this host's loopback address, and it carries no proxy header (a proxy in front means the real
  caller is somewhere else), and
- its ``Host`` is a loopback name (``127.0.0.1``, ``localhost``, ``[::1]``, any port), so a page
  of another site that resolves its own name to 127.0.0.1 (DNS rebinding) is refused.
The same ``Host`` rule applies to WebSocket handshakes while local sign-in is on.
Every token issued is logged with the user, its expiry and the peer, never the token itself."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)
LOOPBACK_PEERS = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
LOOPBACK_HOST = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\])(?::[0-9]{1,5})?", re.IGNORECASE)
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")


def loopback_host(headers: Mapping[str, str]) -> bool:
    return LOOPBACK_HOST.fullmatch(headers.get("host", "")) is not None


def may_sign_in(peer: str | None, headers: Mapping[str, str]) -> bool:
    """True only for a direct request from this machine to a loopback name (see above)."""
    if peer not in LOOPBACK_PEERS:
        return False
    if any(name in headers for name in PROXY_HEADERS):
        return False
    return loopback_host(headers)


def log_issued(user_id: str, ttl_seconds: int, peer: str | None) -> None:
    log.warning(  # warning: an operator should see every sign-in that bypassed an IdP
        "local sign-in token issued",
        extra={
            "user_id": user_id,
            "expires_at": int(time.time()) + ttl_seconds,
            "peer": peer,
        },
    )
