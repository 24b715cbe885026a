"""History: one page of ``get-user-purchases`` for users with 100, 10,000 and 100,000 purchases,
on SQLite and on DynamoDB. The figure that matters is how a page for a long history compares with
a page for a short one, in the same store, in the same run.

Each page is the whole action without the socket: ``couchpay.wire.protocol.handle_frame`` (envelope,
validation, the store's ``list_purchases``, the views), timed in this process. Two pages per
user: the first (newest 20) and one from the middle of the history (a ``cursor`` half way). The
users' purchases are written straight into the store's tables in bulk (through the adapters' own
row mapping: the same rows ``claim_purchase`` writes), since buying 110,100 things one by one
would take hours and measure nothing of interest here."""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.dynamodb import REGION, DynamoDbServer
from bench.report import Row, Section
from bench.stack import summary
from couchpay import bootstrap
from couchpay.adapters.stripe_gateway import StripeGateway
from couchpay.config import Config
from couchpay.domain.purchases import Purchase, PurchaseLine, request_hash
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.store import Store
from couchpay.wire.protocol import handle_frame

SUCCESS = "view-purchases-resp-success"
PAGE = 20
MOTO_MAX_ITEMS = 10_000
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
LINES = (
    PurchaseLine("livestream", "Livestream", 2000, 1, 0),
    PurchaseLine("meet-and-greet", "Meet and greet", 5000, 1, 0),
    PurchaseLine("poster", "Poster", 10000, 1, 500),
)


@dataclass
class Loaded:
    """A user whose ``size`` purchases are in the store, and the cursor half way through."""

    user_id: str
    size: int
    after_mid: str  # transaction id of the first purchase the mid page must show
    mid_cursor: str = ""  # the store's own cursor after the newest size // 2 purchases

    def find_mid_cursor(self, store: Store) -> None:
        """Ask the store (one long page), so the cursor is whatever the store makes of it."""
        page, cursor = store.list_purchases(self.user_id, self.size // 2, None)
        if cursor is None or len(page) != self.size // 2:
            raise RuntimeError(f"history {self.size}: no cursor half way")
        self.mid_cursor = cursor


def purchases(user_id: str, size: int) -> Iterator[Purchase]:
    """``size`` settled purchases, one a minute back from BASE_TIME (index 0 is the newest)."""
    digest = request_hash("card:bench", [("livestream", 1, 2000)])
    for i in range(size):
        at = BASE_TIME - timedelta(minutes=i)
        tx = str(uuid.uuid4())
        pi = f"pi_bench{i:010d}"
        yield Purchase(
            transaction_id=tx,
            request_id=f"{user_id}-{i}",
            request_hash=digest,
            user_id=user_id,
            card_id="card-bench",
            card_brand="visa",
            card_last_four="4242",
            items=LINES,
            subtotal_cents=17000,
            streaming_cost_cents=1700,
            shipping_cents=500,
            total_cents=19200,
            currency="usd",
            created_at=at,
            updated_at=at + timedelta(seconds=1),
            payment_method_id="pm_bench",
            payment_intent_id=pi,
            status=PurchaseStatus.SUCCEEDED,
            stripe_response={
                "id": pi,
                "status": "succeeded",
                "amount": 19200,
                "currency": "usd",
                "created": int(at.timestamp()),
                "payment_method": "pm_bench",
                "latest_charge": f"ch_bench{i:010d}",
                "last_payment_error": None,
                "metadata": {"transaction_id": tx, "user_id": user_id},
            },
        )


class OutOfTime(Exception):
    """Loading did not finish before its deadline."""


def _load(
    user_id: str,
    size: int,
    write: Callable[[list[Purchase]], None],
    chunk: int,
    deadline: float = math.inf,
) -> Loaded:
    mid = size // 2
    found: dict[int, Purchase] = {}
    stream = purchases(user_id, size)
    offset = 0
    while batch := list(itertools.islice(stream, chunk)):
        if time.monotonic() > deadline:
            raise OutOfTime(f"{user_id}: {offset:,} of {size:,} loaded")
        if offset <= mid < offset + len(batch):
            found[mid] = batch[mid - offset]
        write(batch)
        offset += len(batch)
    # the page after the cursor of purchase #mid-1 starts at purchase #mid
    return Loaded(user_id, size, found[mid].transaction_id)


# SQLite --------------------------------------------------------------------------------------
def load_sqlite(path: Path, sizes: tuple[int, ...]) -> tuple[Store, list[Loaded]]:
    from couchpay.adapters import sqlite_rows
    from couchpay.adapters.sqlite_store import CLAIM_PURCHASE, SqliteStore

    SqliteStore(path).close()  # creates and migrates the file
    conn = sqlite3.connect(path, isolation_level=None)

    def write(batch: list[Purchase]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(CLAIM_PURCHASE, [sqlite_rows.to_params(p) for p in batch])
        conn.execute("COMMIT")

    try:
        loaded = [_load(f"bench-history-{size}", size, write, 10_000) for size in sizes]
    finally:
        conn.close()
    store = SqliteStore(path)
    for user in loaded:
        user.find_mid_cursor(store)
    return store, loaded


# DynamoDB ------------------------------------------------------------------------------------
def dynamodb_available() -> str | None:
    """Why the DynamoDB store cannot be benchmarked here (None when it can)."""
    try:
        import boto3  # noqa: F401
        import moto  # noqa: F401

        from couchpay.adapters import dynamodb_store  # noqa: F401
    except ImportError as exc:
        return f"not built or not installed ({exc.name})"
    return None


def load_dynamodb(
    server: DynamoDbServer, sizes: tuple[int, ...], budget_seconds: float
) -> tuple[Store, list[Loaded]]:
    """Load users in ascending size for at most ``budget_seconds``; a user not fully loaded by
    then is left out, with every larger one."""
    from couchpay.adapters import dynamodb_rows, dynamodb_tables
    from couchpay.adapters.dynamodb_store import (
        DynamoDbSettings,
        DynamoDbStore,
        create_missing_tables,
    )

    client = server.client()
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    create_missing_tables(client, prefix)
    table = dynamodb_tables.PURCHASES.name(prefix)
    local = threading.local()  # the loading thread pool, for write()

    def batch_write(items: list[dict[str, Any]]) -> None:
        request = {table: [{"PutRequest": {"Item": item}} for item in items]}
        for attempt in range(12):
            left = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            if not left:
                return
            request = left
            time.sleep(min(0.05 * 2**attempt, 1.0))
        raise RuntimeError("batch_write_item left items unprocessed")

    def write(batch: list[Purchase]) -> None:
        items = [dynamodb_rows.wire(dynamodb_rows.purchase_item(p)) for p in batch]
        groups = [items[i : i + 25] for i in range(0, len(items), 25)]
        pool = getattr(local, "pool", None)
        assert pool is not None
        list(pool.map(batch_write, groups))

    loaded: list[Loaded] = []
    deadline = time.monotonic() + budget_seconds
    with ThreadPoolExecutor(8) as pool:
        local.pool = pool
        for size in sorted(sizes):
            try:
                loaded.append(
                    _load(
                        f"bench-history-{size}",
                        size,
                        write,
                        2_000,
                        deadline,
                    )
                )
            except OutOfTime:
                break  # the table says which sizes are missing and why
    store = DynamoDbStore(DynamoDbSettings(prefix, REGION, server.endpoint), client=client)
    for user in loaded:
        user.find_mid_cursor(store)
    return store, loaded


# timing --------------------------------------------------------------------------------------
def time_pages(store: Store, users: list[Loaded], repeats: int, warmup: int = 10) -> dict[str, Any]:
    """Median and p99 (µs) of the first and the mid page per user, interleaved round robin."""
    gateway = StripeGateway("sk_test_bench", api_base="http://127.0.0.1:9")
    svc = bootstrap.build(Config(data_dir=Path("unused")), store=store, gateway=gateway)
    first = json.dumps({"action": "get-user-purchases", "message": {}, "requestId": "h"})
    frames = {
        u.user_id: {
            "first": first,
            "mid": json.dumps(
                {
                    "action": "get-user-purchases",
                    "message": {"cursor": u.mid_cursor},
                    "requestId": "h",
                }
            ),
        }
        for u in users
    }
    # correctness first: right action, a full page, the mid page starts where it must
    for u in users:
        for kind, frame in frames[u.user_id].items():
            reply = handle_frame(svc, u.user_id, frame)
            message = reply["message"]
            left = u.size - (u.size // 2 if kind == "mid" else 0)
            if reply["action"] != SUCCESS or len(message["purchases"]) != min(PAGE, left):
                raise RuntimeError(f"history {u.size} {kind}: {reply['action']} {message}")
            if kind == "mid" and message["purchases"][0]["transactionId"] != u.after_mid:
                raise RuntimeError(f"history {u.size}: the mid page does not start mid-way")
    samples: dict[str, dict[str, list[float]]] = {
        u.user_id: {"first": [], "mid": []} for u in users
    }
    for r in range(warmup + repeats):
        for u in users if r % 2 == 0 else reversed(users):
            for kind, frame in frames[u.user_id].items():
                t0 = time.perf_counter_ns()
                handle_frame(svc, u.user_id, frame)
                if r >= warmup:  # the first rounds warm caches (and a JVM's JIT) up
                    samples[u.user_id][kind].append((time.perf_counter_ns() - t0) / 1000)
    return {
        str(u.size): {kind: summary(values) for kind, values in samples[u.user_id].items()}
        for u in users
    }


def _rows(store_name: str, timings: dict[str, Any], sizes: tuple[int, ...], note: str) -> list[Row]:
    """Each size against the smallest, first page and mid page; sizes not measured are n/a."""
    smallest = str(min(sizes))
    rows = []
    for size in sorted(sizes)[1:]:
        for kind, label in (("first", "first page"), ("mid", "page mid-history")):
            measured = timings.get(str(size))
            rows.append(
                Row(
                    f"history {label}, {store_name}, {size:,} vs {int(smallest):,} purchases",
                    "µs p50",
                    measured[kind]["p50"] if measured else None,
                    timings[smallest][kind]["p50"] if measured else None,
                    "<= 1.3" if size >= 100_000 else "",
                    group="history",
                    note=note if size == max(sizes) and kind == "first" else "",
                )
            )
    return rows


def run(
    workdir: Path,
    sizes: tuple[int, ...] = (100, 10_000, 100_000),
    repeats: int = 300,
    dynamodb_repeats: int = 100,
    dynamodb_backend: str = "auto",
    dynamodb_budget_seconds: float = 240.0,
) -> Section:
    """``dynamodb_budget_seconds``: how long loading the local DynamoDB may take; a user not
    loaded by then is left out of the DynamoDB rows (they say so)."""
    started = time.perf_counter()
    section = Section("history", details={"page": PAGE, "sizes": list(sizes)})
    path = workdir / "history.sqlite3"
    for leftover in (path, path.with_suffix(".sqlite3-wal"), path.with_suffix(".sqlite3-shm")):
        leftover.unlink(missing_ok=True)
    t0 = time.perf_counter()
    store, users = load_sqlite(path, sizes)
    section.details["sqlite_load_seconds"] = round(time.perf_counter() - t0, 1)
    try:
        sqlite_timings = time_pages(store, users, repeats)
    finally:
        store.close()
    section.details["sqlite_us"] = sqlite_timings
    section.rows += _rows("SQLite", sqlite_timings, sizes, "")

    all_sizes = sizes
    why_not = dynamodb_available()
    if why_not is not None:
        section.details["dynamodb"] = f"n/a: {why_not}"
        section.rows += _rows("DynamoDB", {}, sizes, f"n/a: DynamoDB store {why_not}")
        section.seconds = time.perf_counter() - started
        return section
    server = DynamoDbServer(dynamodb_backend)
    if server.kind == "moto":  # its Query walks the whole table: keep it to minutes
        sizes = tuple(s for s in sizes if s <= MOTO_MAX_ITEMS) or sizes[:1]
        dynamodb_repeats = min(dynamodb_repeats, 10)
    try:
        t0 = time.perf_counter()
        ddb_store, ddb_users = load_dynamodb(server, sizes, dynamodb_budget_seconds)
        load_seconds = time.perf_counter() - t0
        ddb_timings = time_pages(ddb_store, ddb_users, dynamodb_repeats, warmup=30)
        with contextlib.suppress(Exception):
            ddb_store.close()
    finally:
        server.stop()
    loaded = [u.size for u in ddb_users]
    section.details["dynamodb"] = {
        "server": server.kind,
        "why_not_dynamodb_local": server.why_not_local,
        "sizes_loaded": loaded,
        "load_seconds": round(load_seconds, 1),
        "items_per_second_loaded": round(sum(loaded) / load_seconds),
        "us": ddb_timings,
    }
    note = f"{server.kind} on 127.0.0.1"
    if server.why_not_local:
        note += f" (DynamoDB Local: {server.why_not_local}; moto's Query scans the table)"
    left_out = [s for s in all_sizes if s not in loaded]
    if left_out:
        note += (
            f"; {', '.join(f'{s:,}' for s in left_out)} not loaded: at "
            f"{sum(loaded) / load_seconds:,.0f} items/s, not within the "
            f"{dynamodb_budget_seconds:.0f} s loading budget"
            + (" (or too big for moto)" if server.kind == "moto" else "")
        )
    section.rows += _rows("DynamoDB", ddb_timings, all_sizes, note)
    section.seconds = time.perf_counter() - started
    return section
