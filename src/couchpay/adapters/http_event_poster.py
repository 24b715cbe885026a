"""The EventPoster port over httpx (a pooled, synchronous client: the deliverer runs on a
thread locally and in a Lambda on AWS). Redirects are not followed (a receiver answers for
itself); transport errors become the port's ``PostFailed`` here, at the one boundary."""

from __future__ import annotations

import httpx

from couchpay.ports.event_poster import EventPoster, PostFailed

TIMEOUT = httpx.Timeout(10.0, connect=3.0)


class HttpEventPoster(EventPoster):
    def __init__(self, timeout: httpx.Timeout = TIMEOUT) -> None:
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        try:
            response = self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise PostFailed(type(exc).__name__) from exc
        return response.status_code

    def close(self) -> None:
        self._client.close()
