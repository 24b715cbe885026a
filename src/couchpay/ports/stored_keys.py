"""What both stores write the same way: datetimes as fixed-width ISO-8601 UTC strings with
microseconds (so text order is time order), and the opaque history cursor built from them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from couchpay.domain.errors import BadRequest

MAX_CURSOR_LENGTH = 512


def dt_out(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the store only takes timezone-aware datetimes")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def dt_in(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def encode_cursor(created_at: str, transaction_id: str) -> str:
    """Opaque and url-safe: base64url (unpadded) of the last row's sort key, as stored."""
    raw = json.dumps([created_at, transaction_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The stored (created_at, transaction_id) a cursor stands for; BadRequest if not ours."""
    try:
        if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("cursor length")
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
        value = json.loads(raw.decode("utf-8"))
        if not (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(part, str) for part in value)
            and value[1]
        ):
            raise ValueError("cursor shape")
        return dt_out(datetime.fromisoformat(value[0])), value[1]
    except ValueError as exc:  # binascii, unicode and JSON errors are all ValueErrors
        raise BadRequest("invalid cursor") from exc
