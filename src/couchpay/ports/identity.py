"""Who is on the other end of a connection, and until when.

A verifier either names the token's subject, refuses the token (``Unauthorized``: the client's
fault, HTTP 403), or cannot judge it right now (``SignInUnavailable``: the identity provider's
keys cannot be fetched; HTTP 503, try again later). Verifying may block on the network (a key
set fetch), so servers call it off their event loop."""

from __future__ import annotations

from abc import ABC, abstractmethod


class SignInUnavailable(RuntimeError):
    """The keys needed to check a token cannot be had right now: not the token's fault."""


class TokenVerifier(ABC):
    @abstractmethod
    def verify(self, token: str) -> str:
        """Return the token's subject (our user id). Raises ``Unauthorized``."""

    @abstractmethod
    def verify_until(self, token: str) -> tuple[str, float]:
        """The subject, and when the token expires (epoch seconds): a connection opened with
        it ends then. Every verifier in use requires ``exp``, checked by ``verify``."""
