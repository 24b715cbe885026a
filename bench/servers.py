"""The processes the benchmarks talk to, all on 127.0.0.1: `couchpay serve`, a bare
Starlette/uvicorn echo socket, localstripe; and what we read about them (RSS)."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from couchpay.adapters.dev_tokens import DevTokens

REPO = Path(__file__).resolve().parents[1]
WEBHOOK_SECRET = "whsec_bench_only_not_a_real_secret"  # noqa: S105 - loopback only
START_TIMEOUT = 60.0


def raise_open_files(wanted: int = 8192) -> int:
    """Lift this process's soft open-files limit (children inherit it); returns the new one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` (VmRSS in /proc/<pid>/status), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Our environment minus anything Stripe or AWS (no real keys, ever), the checkout on the
    path (for ``bench.*`` and ``tests.*`` modules), plus ``extra``. ``COUCHPAY_BENCH_SRC``
    runs the children from another source tree: a copy of src/ with a fix to measure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "AWS_"))}
    src = os.environ.get("COUCHPAY_BENCH_SRC") or str(REPO / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, str(REPO), env.get("PYTHONPATH")) if p)
    env.update(extra or {})
    return env


class _Child:
    """A child process that prints one line saying where it listens, then serves."""

    ready_prefix = ""
    proc: subprocess.Popen[str] | None = None
    url = ""

    def _spawn(self, command: list[str], env: dict[str, str], log: Path) -> str:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as err:
            self.proc = subprocess.Popen(  # noqa: S603 - our interpreter, our modules
                command, env=env, stdout=subprocess.PIPE, stderr=err, text=True, cwd=REPO
            )
        assert self.proc.stdout is not None
        lines: list[str] = []
        seen = threading.Event()
        reader = threading.Thread(
            target=_first_line, args=(self.proc.stdout, self.ready_prefix, lines, seen), daemon=True
        )
        reader.start()
        seen.wait(START_TIMEOUT)
        if not lines:
            self.stop()
            raise RuntimeError(f"{command[2:5]} did not start:\n{log.read_text()[-3000:]}")
        return lines[0]

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc.stdout is not None:
            with contextlib.suppress(OSError):
                proc.stdout.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _first_line(stream: IO[str], prefix: str, found: list[str], seen: threading.Event) -> None:
    """Hand over the first line starting with ``prefix``, then keep draining the pipe."""
    try:
        with contextlib.suppress(OSError, ValueError):
            for line in stream:
                if not found and line.startswith(prefix):
                    found.append(line.strip())
                    seen.set()
    finally:
        seen.set()  # the child exited (or closed stdout) without saying where it listens


class CouchpayServer(_Child):
    """``couchpay serve --port 0`` on its own data dir, pointed at ``stripe_api_base`` (a
    localstripe, or a proxy in front of one). No webhook endpoint is registered anywhere, so
    Stripe's events do not add work to a purchase run that the baseline does not do. The
    per-connection rate limit is lifted (it would refuse a benchmark); everything else is as
    configured by default, INFO logging of every frame included."""

    ready_prefix = "couchpay serving at "

    def __init__(
        self, data_dir: Path, stripe_api_base: str, settings: dict[str, str] | None = None
    ) -> None:
        """``settings``: more environment (COUCHPAY_STRIPE_RATE, ...)."""
        self.data_dir = data_dir
        self.stripe_api_base = stripe_api_base
        data_dir.mkdir(parents=True, exist_ok=True)
        env = child_env(
            {
                "COUCHPAY_DATA_DIR": str(data_dir),
                "STRIPE_API_BASE": stripe_api_base,
                "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "COUCHPAY_WEB_DIR": str(data_dir / "no-web"),  # the placeholder page is enough
                # the per-connection frame limit (20/s, bursts of 40) would refuse a benchmark
                "COUCHPAY_RATE_LIMIT": "1000000/1000000",
                # 1,000 fans (or 1,050 sockets) at once: more than the default connection cap
                "COUCHPAY_MAX_CONNECTIONS": "5000",
                **(settings or {}),
            }
        )
        command = [sys.executable, "-m", "couchpay.entrypoints.cli", "serve", "--port", "0"]
        line = self._spawn(command, env, data_dir / "server.log")
        self.url = line.removeprefix(self.ready_prefix).split()[0].rstrip("/")
        self._tokens = DevTokens(data_dir / "dev-signing.key")

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/ws"

    def token(self, user_id: str) -> str:
        return self._tokens.mint(user_id, 3600)

    def socket_url(self, user_id: str) -> str:
        return f"{self.ws_url}?token={self.token(user_id)}"


class EchoServer(_Child):
    """The baseline socket: ``bench.echo_app`` (Starlette + uvicorn, same settings as couchpay)."""

    ready_prefix = "ECHO_PORT="

    def __init__(self, log: Path) -> None:
        command = [sys.executable, "-m", "bench.echo_app"]
        line = self._spawn(command, child_env(), log)
        port = int(line.removeprefix(self.ready_prefix))
        self.url = f"http://127.0.0.1:{port}"

    def socket_url(self, user_id: str) -> str:
        return f"ws://127.0.0.1:{self.url.rsplit(':', 1)[1]}/ws?token=unused-{user_id}"
