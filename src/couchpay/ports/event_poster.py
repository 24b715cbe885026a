"""The EventPoster port: one HTTP POST of a signed event to a receiver's endpoint.

Invariant: ``post`` returns the receiver's HTTP status, or raises ``PostFailed`` when no status
came back (refused, reset, timed out); it never retries on its own (the deliverer owns retries
and their backoff) and never logs the body or the headers (the signature)."""

from __future__ import annotations

from abc import ABC, abstractmethod


class PostFailed(RuntimeError):
    """No HTTP answer from the receiver; the message says what happened (no body, no secret)."""


class EventPoster(ABC):
    @abstractmethod
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST ``body`` to ``url``; the response status."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
