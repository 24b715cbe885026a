"""``couchpay serve``'s showtime tasks, on the event loop: the admission line's runner and the
settlement pass. Waiting happens here, in ``anyio.sleep``; Stripe calls run in threads of their
own (``STRIPE_THREADS`` at most), so a line of thousands holds no worker thread, and the frames
and webhooks keep theirs.

* At start: ``showtime.reload`` (queued records from before a restart rejoin the line).
* Then, forever: turn away whoever waited too long; send the head of the line when the rate
  allows; every second, tell waiting fans their new place.
* Every ``COUCHPAY_SETTLE_EVERY_SECONDS``: ``showtime.settle_open`` (nothing is left pending
  without an owner, abandoned 3-D Secure is canceled)."""

from __future__ import annotations

import logging
import time

import anyio
from anyio.abc import TaskGroup

from couchpay.bootstrap import settle_times
from couchpay.config import Config
from couchpay.service import showtime
from couchpay.service.admission import Line, Waiting
from couchpay.service.context import Services

log = logging.getLogger(__name__)
STRIPE_THREADS = 64
"""Purchases with Stripe at once: the rate (25/s) times the slowest usual answer (1 s), with
room for slow calls. Past it the line waits for a thread instead of piling threads up."""
TELL_EVERY_SECONDS = 1.0


async def run(svc: Services, config: Config) -> None:
    """The line and the settlement pass, until cancelled."""
    line = svc.line
    if line is None:
        return
    rejoined = await anyio.to_thread.run_sync(showtime.reload, svc)
    if rejoined:
        log.info("%d queued purchases from before the restart rejoined the line", rejoined)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_settle_forever, svc, config)
        await _work_the_line(svc, line, tasks)


async def _work_the_line(svc: Services, line: Line, tasks: TaskGroup) -> None:
    """Nobody leaves the line before a Stripe thread is free for them, so a hanging Stripe
    keeps the line (and its waits and ``busy`` answers) honest instead of piling up threads."""
    threads = anyio.CapacityLimiter(STRIPE_THREADS)
    free = anyio.Semaphore(STRIPE_THREADS)
    told = showtime.Told()
    last_told = 0.0
    while True:
        for late in line.expired():
            await anyio.to_thread.run_sync(showtime.turn_away, svc, late)
        wait = 0.05
        if free.value > 0:
            entry, wait = line.next_due()
            if entry is not None:
                free.acquire_nowait()
                tasks.start_soon(_send, svc, entry, threads, free)
                continue
        if time.monotonic() - last_told >= TELL_EVERY_SECONDS:
            showtime.tell_positions(svc, told)  # pushes are queued on the sockets: no I/O here
            last_told = time.monotonic()
        await anyio.sleep(min(wait, 0.25))


async def _send(
    svc: Services, entry: Waiting, threads: anyio.CapacityLimiter, free: anyio.Semaphore
) -> None:
    try:
        await anyio.to_thread.run_sync(showtime.send, svc, entry, limiter=threads)
    except Exception:
        log.exception("sending %s failed; the settlement pass settles it", entry.transaction_id)
    finally:
        free.release()


async def _settle_forever(svc: Services, config: Config) -> None:
    times = settle_times(config)  # from bootstrap
    one_at_a_time = anyio.CapacityLimiter(1)
    while True:
        await anyio.sleep(config.settle_every_seconds)
        try:
            summary = await anyio.to_thread.run_sync(
                showtime.settle_open, svc, times, limiter=one_at_a_time
            )
        except Exception:
            log.exception("settlement pass failed; trying again later")
            continue
        if summary.examined:
            log.info("settlement: %s", summary.line())
