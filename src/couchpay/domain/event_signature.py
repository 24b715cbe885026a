"""The event feed's signature, in Stripe's style, written once for the sender and the receiver.

Header ``Couchpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">`` keyed with
the shared signing secret. A receiver recomputes the HMAC over the raw body it got, compares in
constant time, and refuses a timestamp further than ``tolerance`` seconds from its clock (a
replayed old delivery). Several ``v1`` entries may appear (a rotation: old and new secret);
one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Couchpay-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class EventSignatureError(ValueError):
    """The delivery is not from us, was altered, or is too old: answer 400 and drop it."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secrets: str | list[str], timestamp: int, body: bytes) -> str:
    """The header value for ``body`` sent at ``timestamp`` (one ``v1`` per secret)."""
    keys = [secrets] if isinstance(secrets, str) else secrets
    return ",".join([f"t={timestamp}", *(f"v1={signature(k, timestamp, body)}" for k in keys)])


def check(secret: str, header: str | None, body: bytes, now: float, tolerance: int) -> None:
    """Raise ``EventSignatureError`` unless ``header`` signs ``body`` with ``secret``, at a
    time within ``tolerance`` seconds of ``now``."""
    if not header:
        raise EventSignatureError("no signature header")
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k.strip() == "t"]
    sigs = [v.strip() for k, v in parts if k.strip() == "v1"]
    stamp = stamps[0].strip() if len(stamps) == 1 else ""
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or not sigs:
        raise EventSignatureError("malformed signature header")
    timestamp = int(stamp)
    expected = signature(secret, timestamp, body).encode()
    if not any(hmac.compare_digest(expected, s.encode("ascii", "replace")) for s in sigs):
        raise EventSignatureError("signature does not match")
    if abs(now - timestamp) > tolerance:
        raise EventSignatureError("timestamp outside the tolerance")
