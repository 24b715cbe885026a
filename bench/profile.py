"""Where the time goes, for the targets the table misses (findings: BENCHMARKS.md).

    python -m bench.profile wallet      # py-spy on `couchpay serve` during wallet reads
    python -m bench.profile purchase    # py-spy (GIL-holding samples) during 8-client purchases
    python -m bench.profile coldstart   # the $default cold start, step by step, CPU and wall

``wallet`` and ``purchase`` sample the server with py-spy (``pip install -e '.[bench]'``; it
needs ptrace rights over a child process, as root or with ptrace_scope 0) and print the share of
busy samples per stage of a request. COUCHPAY_BENCH_SRC=/copy/of/src profiles another tree."""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets

from bench import coldstart, wallet
from bench.dynamodb import start_moto
from bench.purchase import Buyers
from bench.stack import Stack

IDLE = ("Runner.run (asyncio/runners.py:118)", "Condition.wait (threading.py:327)")
STAGES = (  # first match wins, so the order matters
    ("Stripe SDK call", "StripeGateway.pay"),
    ("store: ensure_user (a write transaction, even on a read)", "ensure_user"),
    ("store: claim/settle write transactions", "SqliteStore._write"),
    ("store: reads and row mapping", "SqliteStore"),
    ("per-frame JSON log line", "_log_frame"),
    ("message validation (pydantic)", "_validate"),
    ("handler logic (routes, service, views)", "handle_frame (couchpay/wire/protocol.py"),
    ("thread hop (anyio.to_thread)", "run_sync"),
    ("thread hop (anyio.to_thread)", "WorkerThread.run"),
    ("reply: json.dumps + WebSocket send", "serve_socket.<locals>.send"),
    ("frame receive + parse (uvicorn/websockets)", "data_received"),
    ("per-frame task, limits, locks (serve_socket)", "serve_socket"),
)


def stages(raw: Path) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """Busy samples, their share per stage, and the hottest leaf frames, from py-spy's raw
    (collapsed stacks) output."""
    per_stage: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    busy = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or frames[-1] in IDLE:
            continue
        n = int(count)
        busy += n
        leaves[frames[-1]] += n
        for name, key in STAGES:
            if any(key in f for f in frames):
                per_stage[name] += n
                break
        else:
            per_stage["other (uvicorn, asyncio, ...)"] += n
    return busy, per_stage, leaves


def _spy(pid: int, out: Path, seconds: float, gil: bool) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [spy, "record", "-p", str(pid), "-o", str(out), "--format", "raw", "-r", "400"]
    command += ["-d", str(int(seconds) + 1), "--nonblocking", *(["--gil"] if gil else [])]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def _print(title: str, raw: Path) -> None:
    busy, per_stage, leaves = stages(raw)
    print(f"{title}: {busy} busy samples")
    for name, n in per_stage.most_common():
        print(f"  {100 * n / max(1, busy):5.1f}%  {name}")
    print("hottest frames:")
    for frame, n in leaves.most_common(12):
        print(f"  {100 * n / max(1, busy):5.1f}%  {frame}")


def profile_wallet(workdir: Path, seconds: float) -> None:
    with Stack(workdir) as stack:
        asyncio.run(wallet._prepare(stack))
        raw = workdir / "wallet.raw"
        spy = _spy(stack.server.pid, raw, seconds, gil=False)
        time.sleep(0.5)

        async def reads() -> int:
            async with websockets.connect(stack.server.socket_url(wallet.USER)) as ws:
                done, until = 0, time.monotonic() + seconds
                while time.monotonic() < until:
                    await wallet._round_trips(ws, 100, "profile")
                    done += 100
                return done

        n = asyncio.run(reads())
        spy.wait(60)
    print(f"{n / seconds:.0f} wallet reads/s under py-spy")
    _print("couchpay serve, sequential get-user-credit-card", raw)


def profile_purchase(workdir: Path, seconds: float, clients: int) -> None:
    with Stack(workdir) as stack:
        buyers = Buyers(stack.server, stack.api_base, "profile", clients)
        asyncio.run(buyers.prepare())
        raw = workdir / "purchase.raw"
        spy = _spy(stack.server.pid, raw, seconds, gil=True)
        time.sleep(0.5)
        each = max(1, int(seconds * 150 / clients))
        took, failures = asyncio.run(buyers.run(each))
        spy.wait(60)
    print(f"{clients * each / took:.0f} purchases/s under py-spy ({failures} failed)")
    _print(f"couchpay serve, {clients} clients buying (samples holding the GIL)", raw)


STEPS = """
import json, time
marks, t, c = [], time.perf_counter(), time.process_time()
def mark(label):
    global t, c
    marks.append((label, (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000))
    t, c = time.perf_counter(), time.process_time()
import couchpay.entrypoints.aws_lambda.default
mark("import the $default module")
from couchpay.entrypoints.aws_lambda import _runtime
_runtime.config()
mark("config")
_runtime.connections().dynamodb
mark("connections: DynamoDB client (new boto3 Session; imports boto3)")
_runtime.connections().management("http://127.0.0.1:9/bench")
mark("connections: Management API client (another new Session)")
from couchpay.wire.protocol import handle_frame
mark("import couchpay.wire.protocol (pydantic, messages, routes, services)")
from couchpay import bootstrap
mark("import couchpay.bootstrap")
store = bootstrap.build_store(_runtime.config())
store.client
mark("store: its own DynamoDB client (a third Session)")
bootstrap.build_gateway("sk_test_bench", None)
mark("gateway: import stripe, StripeClient")
store.list_items()
mark("catalog read (bootstrap seeds the demo catalog: one query)")
bootstrap.build_sign_in(_runtime.config())
mark("sign-in verifier (jwt, cryptography)")
print(json.dumps(marks))
"""


def profile_coldstart(workdir: Path, runs: int) -> None:
    moto, endpoint = start_moto()
    try:
        coldstart._seed(endpoint)
        env = coldstart.lambda_env(workdir, endpoint)
        found = []
        for _ in range(runs + 1):
            done = subprocess.run(  # noqa: S603
                [sys.executable, "-c", STEPS], env=env, capture_output=True, text=True, check=True
            )
            found.append(json.loads(done.stdout))
    finally:
        moto.stop()
    print(f"$default cold start, step by step (median of {runs} fresh processes):")
    print(f"  {'wall ms':>8} {'CPU ms':>8}  step")
    for i, (label, _, _) in enumerate(found[0]):
        wall = statistics.median(run[i][1] for run in found[1:])
        cpu = statistics.median(run[i][2] for run in found[1:])
        print(f"  {wall:8.1f} {cpu:8.1f}  {label}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("what", choices=("wallet", "purchase", "coldstart"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="couchpay-profile-") as scratch:
        work = Path(scratch)
        if args.what == "wallet":
            profile_wallet(work, args.seconds)
        elif args.what == "purchase":
            profile_purchase(work, args.seconds, args.clients)
        else:
            profile_coldstart(work, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
