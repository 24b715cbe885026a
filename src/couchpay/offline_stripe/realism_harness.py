"""The Stripe stand-in (``realism``) run for tests and benchmarks: in a thread of this process
(``StripeRealism``) or as a child process (``RealismProcess``, what a benchmark uses so that the
stand-in does not share this process's CPU with the clients it measures).

Invariant: both stop what they started when the context ends; neither touches real Stripe.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from couchpay.offline_stripe.realism import URL_PREFIX, RealismProxy, serve
from couchpay.offline_stripe.realism_rules import RealismSettings, RollingWindows, Stats

T = TypeVar("T")


class StripeRealism:
    """The stand-in in a thread of this process, for as long as the context lasts."""

    def __init__(self, upstream: str, settings: RealismSettings | None = None) -> None:
        self.proxy = RealismProxy(upstream, settings or RealismSettings())
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, Any]:
        return self._call(self.proxy.stats.snapshot)

    def reset(self) -> None:
        def clear() -> None:
            self.proxy.stats, self.proxy.windows = Stats(), RollingWindows()

        self._call(clear)

    def configure(self, **changes: Any) -> RealismSettings:
        def change() -> RealismSettings:
            self.proxy.settings = self.proxy.settings.updated(changes)
            return self.proxy.settings

        return self._call(change)

    def _call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the proxy's loop (its state belongs to that loop)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(_returning(fn), self._loop).result(10)

    def __enter__(self) -> Self:
        ready = threading.Event()
        failed: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(ready, failed), daemon=True)
        self._thread.start()
        ready.wait(30)
        if failed or not self.port:
            raise RuntimeError(f"the Stripe stand-in did not start: {failed}")
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(15)

    def _run(self, ready: threading.Event, failed: list[BaseException]) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._main(ready))
        except BaseException as exc:  # reported to __enter__
            failed.append(exc)
            ready.set()
        finally:
            self._loop.close()

    async def _main(self, ready: threading.Event) -> None:
        self._stop = asyncio.Event()
        runner, self.port = await serve(self.proxy)
        ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()


async def _returning(fn: Callable[[], T]) -> T:
    return fn()


class RealismProcess:
    """``python -m couchpay.offline_stripe.realism`` as a child process; same API over HTTP."""

    def __init__(self, upstream: str, args: list[str] | None = None) -> None:
        self.upstream, self.args = upstream, list(args or [])
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> Self:
        command = [sys.executable, "-m", "couchpay.offline_stripe.realism"]
        self.proc = subprocess.Popen(  # noqa: S603 - our interpreter, our module
            [*command, "--upstream", self.upstream, *self.args], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith(URL_PREFIX):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the Stripe stand-in did not start: {line!r}")
        self.url = line.removeprefix(URL_PREFIX)
        self._http = httpx.Client(base_url=self.url, timeout=30, trust_env=False)
        return self

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = self._http.get("/_realism/stats").raise_for_status().json()
        return answer

    def reset(self) -> None:
        self._http.delete("/_realism/stats").raise_for_status()

    def configure(self, **changes: Any) -> dict[str, Any]:
        answer: dict[str, Any] = (
            self._http.post("/_realism/settings", json=changes).raise_for_status().json()
        )
        return answer

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if getattr(self, "_http", None) is not None:
            self._http.close()
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()
