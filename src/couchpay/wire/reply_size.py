"""Every reply fits in one API Gateway WebSocket message: at most 128 KB.

API Gateway refuses a larger ``post_to_connection`` (413, ``PayloadTooLargeException``), and the
fan would never hear back; ``couchpay serve`` keeps the same cap so that tests see it. Replies
are encoded one way everywhere (compact JSON, ASCII: its length is its size in bytes). A reply
that would not fit is replaced by an ``error`` reply ``reply_too_large`` with the same
requestId; the history is paged by bytes as well as by count so that its pages always fit
(``HISTORY_PAGE_BYTES``, ``service.queries.purchase_history``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from couchpay.domain.errors import ReplyTooLarge

log = logging.getLogger(__name__)
MAX_REPLY_BYTES = 128 * 1024
# What the purchases of one history page may take: the cap less room for the envelope (action,
# a requestId of up to 128 characters even \u-escaped, nextCursor, the keys).
HISTORY_PAGE_BYTES = MAX_REPLY_BYTES - 4 * 1024


def encode(value: Any) -> str:
    """Compact, ASCII-only JSON: ``len()`` is the size on the wire."""
    return json.dumps(value, separators=(",", ":"))


def size(value: Any) -> int:
    return len(encode(value))


def fit(reply: dict[str, Any]) -> str:
    """The reply as sent: itself, or ``reply_too_large`` if it would exceed the cap."""
    text = encode(reply)
    if len(text) <= MAX_REPLY_BYTES:
        return text
    log.error("reply %s of %d bytes is over the 128 KB cap", reply.get("action"), len(text))
    error = ReplyTooLarge()
    return encode(
        {
            "action": "error",
            "message": {"code": error.code, "error": error.message},
            "requestId": reply.get("requestId"),
        }
    )
