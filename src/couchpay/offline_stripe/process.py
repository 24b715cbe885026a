"""Run ``couchpay.offline_stripe.server`` as a child process and talk to its config API.

with LocalStripe() as ls:
    gateway = StripeGateway("sk_test_anything", api_base=ls.api_base)
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx

import couchpay

_PORT_PREFIX = "LOCALSTRIPE_PORT="


class LocalStripeError(RuntimeError):
    """localstripe did not start, or its config API refused a request."""


class LocalStripe:
    """A localstripe server on a free 127.0.0.1 port, for as long as the context lasts."""

    def __init__(
        self,
        store_path: str | os.PathLike[str] | None = None,
        *,
        startup_timeout: float = 30.0,
        stop_timeout: float = 5.0,
    ) -> None:
        self.store_path = Path(store_path) if store_path is not None else None
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._process: subprocess.Popen[str] | None = None
        self._port: int | None = None
        self._http: httpx.Client | None = None

    # lifecycle ---------------------------------------------------------------------------
    def start(self) -> Self:
        if self._process is not None:
            raise LocalStripeError("localstripe is already started")
        command = [
            sys.executable,
            "-m",
            "couchpay.offline_stripe.server",
            "--exit-with-parent",
        ]
        if self.store_path is not None:
            command += ["--store", str(self.store_path)]
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            stdout=subprocess.PIPE,
            stdin=subprocess.PIPE,  # closed when we die: the child exits with us
            text=True,
            env=_child_env(),
        )
        try:
            deadline = time.monotonic() + self.startup_timeout
            self._port = self._read_port(deadline)
            self._http = httpx.Client(base_url=self.api_base, timeout=10.0, trust_env=False)
            self._wait_until_ready(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate the server (kill it if it does not exit in ``stop_timeout``). Idempotent."""
        if self._http is not None:
            self._http.close()
            self._http = None
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(self.stop_timeout)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # facts -------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise LocalStripeError("localstripe is not started")
        return self._port

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # config API --------------------------------------------------------------------------
    def flush(self) -> None:
        """Forget every object localstripe holds."""
        self._config("DELETE", "/_config/data")

    def register_webhook(self, webhook_id: str, url: str, secret: str) -> None:
        """Have localstripe POST its events to ``url``, signed with ``secret``."""
        self._config("POST", f"/_config/webhooks/{webhook_id}", {"url": url, "secret": secret})

    def _config(self, method: str, path: str, form: dict[str, str] | None = None) -> None:
        if self._http is None:
            raise LocalStripeError("localstripe is not started")
        response = self._http.request(method, path, data=form)
        if response.status_code != 200:
            raise LocalStripeError(f"{method} {path} answered HTTP {response.status_code}")

    # start-up ----------------------------------------------------------------------------
    def _read_port(self, deadline: float) -> int:
        assert self._process is not None and self._process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=_pump, args=(self._process.stdout, lines), name="localstripe-stdout", daemon=True
        ).start()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LocalStripeError("localstripe did not report its port in time")
            try:
                line = lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                if self._process.poll() is not None:
                    raise LocalStripeError(
                        f"localstripe exited with code {self._process.returncode} before starting"
                    ) from None
                continue
            if line.startswith(_PORT_PREFIX):
                return int(line.removeprefix(_PORT_PREFIX).strip())

    def _wait_until_ready(self, deadline: float) -> None:
        assert self._http is not None and self._process is not None
        while True:
            try:
                if self._http.get("/js.stripe.com/v3/", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self._process.poll() is not None:
                raise LocalStripeError(f"localstripe exited with code {self._process.returncode}")
            if time.monotonic() >= deadline:
                raise LocalStripeError("localstripe did not answer in time")
            time.sleep(0.05)


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    """Forward the child's stdout lines, and keep draining it so the child never blocks."""
    try:
        for line in stream:
            lines.put(line)
    except (OSError, ValueError):
        return  # closed by stop()


def _child_env() -> dict[str, str]:
    """The child must import couchpay even when it runs from a source checkout."""
    env = dict(os.environ)
    package_root = Path(couchpay.__file__).resolve().parent.parent
    if package_root.name not in ("site-packages", "dist-packages"):  # a checkout's src/
        paths = (str(package_root), env.get("PYTHONPATH"))
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env
