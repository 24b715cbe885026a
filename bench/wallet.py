"""Wallet read: ``get-user-credit-card`` round trips over one socket, against a bare
Starlette/uvicorn echo socket on the same machine. Same client code, sequential requests, the two
sockets measured in alternating chunks so drift on a noisy machine hits both alike."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import websockets

from bench.report import Row, Section
from bench.servers import EchoServer
from bench.stack import VISA, VISA_2, Stack, connect, save_card, summary

ACTION = "get-user-credit-card"
SUCCESS = "get-user-credit-card-resp-success"
USER = "bench-wallet-fan"


async def _round_trips(
    ws: websockets.ClientConnection, n: int, tag: str
) -> tuple[list[float], int]:
    """``n`` sequential requests; latencies in microseconds, and how many replies were wrong."""
    samples: list[float] = []
    errors = 0
    for i in range(n):
        frame = json.dumps({"action": ACTION, "message": {}, "requestId": f"{tag}-{i}"})
        t0 = time.perf_counter_ns()
        await ws.send(frame)
        raw = await ws.recv()
        samples.append((time.perf_counter_ns() - t0) / 1000)
        reply = json.loads(raw)
        if (
            reply.get("action") != SUCCESS
            or reply.get("requestId") != f"{tag}-{i}"
            or len(reply["message"]["cards"]) != 2
        ):
            errors += 1
    return samples, errors


async def _measure(
    couchpay_url: str, echo_url: str, requests: int, warmup: int, chunks: int
) -> dict[str, object]:
    per_chunk = max(1, requests // chunks)
    results: dict[str, list[float]] = {"couchpay": [], "echo": []}
    errors = {"couchpay": 0, "echo": 0}
    async with (
        websockets.connect(couchpay_url, max_size=2**20) as cp,
        websockets.connect(echo_url, max_size=2**20) as echo,
    ):
        sockets = {"couchpay": cp, "echo": echo}
        for name, ws in sockets.items():
            await _round_trips(ws, warmup, f"warm-{name}")
        for chunk in range(chunks):
            order = ["echo", "couchpay"] if chunk % 2 == 0 else ["couchpay", "echo"]
            for name in order:
                samples, bad = await _round_trips(sockets[name], per_chunk, f"{name}-{chunk}")
                results[name] += samples
                errors[name] += bad
    return {"samples": results, "errors": errors}


async def _prepare(stack: Stack) -> None:
    client = await connect(stack.server, USER)
    try:
        wallet = await client.call(ACTION)
        have = len(wallet["message"].get("cards", []))
        for number in (VISA, VISA_2)[have:]:
            await save_card(client, stack.api_base, number)
    finally:
        await client.close()


def run(stack: Stack, workdir: Path, requests: int = 2000, warmup: int = 200) -> Section:
    started = time.perf_counter()
    asyncio.run(_prepare(stack))
    with EchoServer(workdir / "echo-wallet.log") as echo:
        measured = asyncio.run(
            _measure(
                stack.server.socket_url(USER),
                echo.socket_url(USER),
                requests,
                warmup,
                chunks=8 if requests >= 80 else 2,
            )
        )
    samples = measured["samples"]
    assert isinstance(samples, dict)
    cp, base = summary(samples["couchpay"]), summary(samples["echo"])
    n = f"{len(samples['couchpay']):,} req"
    section = Section("wallet", details={"couchpay_us": cp, "echo_us": base, **measured})
    section.details.pop("samples")
    section.rows = [
        Row(f"wallet read p50, {n}", "µs", cp["p50"], base["p50"], "<= 1.3", group="wallet"),
        Row(f"wallet read p99, {n}", "µs", cp["p99"], base["p99"], "<= 1.3", group="wallet"),
    ]
    errors = measured["errors"]
    assert isinstance(errors, dict)
    if errors["couchpay"] or errors["echo"]:
        section.rows[
            0
        ].note = f"wrong replies: couchpay {errors['couchpay']}, echo {errors['echo']}"
    section.seconds = time.perf_counter() - started
    return section
