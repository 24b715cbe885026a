"""Who is on the other end of a connection."""

from __future__ import annotations

from abc import ABC, abstractmethod


class TokenVerifier(ABC):
    @abstractmethod
    def verify(self, token: str) -> str:
        """Return the token's subject (our user id). Raises ``Unauthorized``."""
