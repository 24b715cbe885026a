"""Who is on the other end of a connection, and until when.

A caller is a user id (the token's subject), the token's expiry (a connection opened with it
ends then) and, when the token carries a usable ``email`` claim, that email (used for Stripe's
emailed receipt); a malformed email claim is ignored, never an error. A verifier either names
the caller, refuses the token (``Unauthorized``: the client's fault, HTTP 403), or cannot judge it
right now (``SignInUnavailable``: the identity provider's keys cannot be fetched; HTTP 503, try
again later). Verifying may block on the network (a key set fetch), so servers call it off their
event loop."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from couchpay.domain.errors import Unauthorized

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
MAX_EMAIL = 254


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str | None = None
    expires_at: float | None = None


def email_claim(claims: dict[str, Any]) -> str | None:
    email = claims.get("email")
    if isinstance(email, str) and len(email) <= MAX_EMAIL and _EMAIL.fullmatch(email):
        return email
    return None


class SignInUnavailable(RuntimeError):
    """The keys needed to check a token cannot be had right now: not the token's fault."""


class TokenVerifier(ABC):
    @abstractmethod
    def verify(self, token: str) -> str:
        """Return the token's subject (our user id). Raises ``Unauthorized``."""

    def caller(self, token: str) -> Caller:
        """The token's subject, expiry and email. Raises ``Unauthorized``."""
        return Caller(self.verify(token))

    def verify_until(self, token: str) -> tuple[str, float]:
        """The subject, and when the token expires (epoch seconds). Every verifier in use
        requires ``exp``; a caller without one is refused."""
        found = self.caller(token)
        if found.expires_at is None:
            raise Unauthorized("The sign-in token has no expiry.")
        return found.user_id, found.expires_at
