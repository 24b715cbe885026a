"""Who is on the other end of a connection.

A caller is a user id (the token's subject) and, when the token carries a usable ``email`` claim,
that email (used for Stripe's emailed receipt); a malformed email claim is ignored, never an
error."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
MAX_EMAIL = 254


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str | None = None


def email_claim(claims: dict[str, Any]) -> str | None:
    email = claims.get("email")
    if isinstance(email, str) and len(email) <= MAX_EMAIL and _EMAIL.fullmatch(email):
        return email
    return None


class TokenVerifier(ABC):
    @abstractmethod
    def verify(self, token: str) -> str:
        """Return the token's subject (our user id). Raises ``Unauthorized``."""

    def caller(self, token: str) -> Caller:
        """The token's subject and email. Raises ``Unauthorized``."""
        return Caller(self.verify(token))
