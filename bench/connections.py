"""Connections: 1,000 idle sockets plus 50 active ones (each sending ``get-user-credit-card``
requests one after the other) held open at once, against `couchpay serve` and against the bare
echo socket. Memory per connection = (server RSS with all sockets open - RSS before) / sockets;
every failed connect, wrong reply, timeout or unanswered ping counts as an error."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import websockets

from bench.report import Row, Section
from bench.servers import EchoServer, raise_open_files, rss_kib
from bench.stack import Stack, summary

SUCCESS = "get-user-credit-card-resp-success"
BATCH = 50  # sockets opened at once


async def _open(url: str) -> websockets.ClientConnection:
    return await asyncio.wait_for(websockets.connect(url, max_size=2**20), 30)


async def _ask(ws: websockets.ClientConnection, n: int, tag: str) -> tuple[list[float], int]:
    samples, errors = [], 0
    for i in range(n):
        rid = f"{tag}-{i}"
        t0 = time.perf_counter_ns()
        try:
            await ws.send(json.dumps({"action": "get-user-credit-card", "requestId": rid}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
        except (TimeoutError, websockets.ConnectionClosed):
            errors += 1
            continue
        samples.append((time.perf_counter_ns() - t0) / 1000)
        errors += reply.get("action") != SUCCESS or reply.get("requestId") != rid
    return samples, errors


async def _hold(
    url_of: Callable[[str], str], pid: int, idle: int, active: int, requests: int
) -> dict[str, Any]:
    errors: dict[str, int] = {"connect": 0, "reply": 0, "ping": 0}
    warm = await _open(url_of("bench-conn-warm"))  # lazy imports, thread pool, first user
    await _ask(warm, 5, "warm")
    await warm.close()
    await asyncio.sleep(0.5)
    before = rss_kib(pid)
    sockets: list[websockets.ClientConnection] = []
    t0 = time.perf_counter()
    names = [f"bench-idle-{i}" for i in range(idle)] + [f"bench-active-{i}" for i in range(active)]
    for start in range(0, len(names), BATCH):
        opened = await asyncio.gather(
            *(_open(url_of(n)) for n in names[start : start + BATCH]), return_exceptions=True
        )
        for ws in opened:
            if isinstance(ws, BaseException):
                errors["connect"] += 1
            else:
                sockets.append(ws)
    open_seconds = time.perf_counter() - t0
    idle_sockets, active_sockets = sockets[:-active], sockets[-active:]
    try:
        t0 = time.perf_counter()
        answers = await asyncio.gather(
            *(_ask(ws, requests, f"a{i}") for i, ws in enumerate(active_sockets))
        )
        active_seconds = time.perf_counter() - t0
        errors["reply"] = sum(bad for _, bad in answers)
        latencies = [s for samples, _ in answers for s in samples]
        # are the idle ones still there? one ping each, answered within 30 s
        pongs = await asyncio.gather(*(_pong(ws) for ws in idle_sockets), return_exceptions=True)
        errors["ping"] = sum(1 for p in pongs if p is not True)
        await asyncio.sleep(0.5)
        after = rss_kib(pid)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    opened_count = len(sockets)
    return {
        "sockets": opened_count,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_connection": (after - before) / max(1, opened_count),
        "errors": errors,
        "error_count": sum(errors.values()),
        "seconds_to_open": round(open_seconds, 2),
        "active_requests": len(latencies),
        "active_seconds": round(active_seconds, 2),
        "active_us": summary(latencies) if latencies else None,
    }


async def _pong(ws: websockets.ClientConnection) -> bool:
    waiter = await ws.ping()
    await asyncio.wait_for(waiter, 30)
    return True


def run(
    stack: Stack, workdir: Path, idle: int = 1000, active: int = 50, requests: int = 40
) -> Section:
    started = time.perf_counter()
    limit = raise_open_files(4 * (idle + active) + 256)
    section = Section("connections", details={"open_files_limit": limit})
    with EchoServer(workdir / "echo-connections.log") as echo:
        section.details["echo"] = asyncio.run(
            _hold(echo.socket_url, echo.pid, idle, active, requests)
        )
    section.details["couchpay"] = asyncio.run(
        _hold(stack.server.socket_url, stack.server.pid, idle, active, requests)
    )
    cp, base = section.details["couchpay"], section.details["echo"]
    label = f"{idle:,} idle + {active} active sockets"
    section.rows = [
        Row(
            f"memory per connection, {label}",
            "KiB",
            cp["kib_per_connection"],
            base["kib_per_connection"],
            group="connections",
            note=f"couchpay RSS {cp['rss_before_kib'] / 1024:.0f} -> "
            f"{cp['rss_after_kib'] / 1024:.0f} MiB; echo {base['rss_before_kib'] / 1024:.0f} "
            f"-> {base['rss_after_kib'] / 1024:.0f} MiB",
        ),
        Row(
            f"errors, {label}",
            "errors",
            cp["error_count"],
            base["error_count"],
            "== 0",
            on_value=True,
            group="connections",
            note="" if not cp["error_count"] else json.dumps(cp["errors"]),
        ),
    ]
    if cp["active_us"] and base["active_us"]:
        section.rows.append(
            Row(
                f"wallet read p50 beside {idle:,} idle sockets, {active} at once",
                "µs",
                cp["active_us"]["p50"],
                base["active_us"]["p50"],
                group="connections",
            )
        )
    section.seconds = time.perf_counter() - started
    return section
