"""A server in front of its own localstripe, restartable on the same port (so Stripe's state and
its webhook registration survive a kill -9 of the server), plus what the suites count."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from couchpay.adapters.dev_tokens import DevTokens
from couchpay.client import CouchpayClient
from couchpay.offline_stripe.process import LocalStripe
from tests.e2e.conftest import WEBHOOK_SECRET, start_server

KEY = "sk_test_couchpay_offline"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    localstripe: LocalStripe
    data_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir / "server.log"

    def env(self) -> dict[str, str]:
        return {
            "STRIPE_API_BASE": self.localstripe.api_base,
            "COUCHPAY_DATA_DIR": str(self.data_dir),
            "COUCHPAY_DUPLICATE_WAIT_SECONDS": "2",
        }

    def start(self, failpoint: str | None = None) -> None:
        extra = self.env() | ({"COUCHPAY_FAILPOINT": failpoint} if failpoint else {})
        self.proc, _ = start_server(self.data_dir, self.log, extra, port=self.port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)

    async def client(self, user_id: str) -> CouchpayClient:
        token = DevTokens(self.data_dir / "dev-signing.key").mint(user_id, 600)
        return await CouchpayClient.connect(f"ws://127.0.0.1:{self.port}/ws", token)

    def reconcile(self) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")} | self.env()
        done = subprocess.run(
            [sys.executable, "-m", "couchpay.entrypoints.cli", "reconcile", "--older-than", "0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.strip()

    def records(self, users: set[str]) -> list[dict[str, Any]]:
        with sqlite3.connect(self.data_dir / "couchpay.sqlite3") as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM purchases").fetchall()
        return [dict(r) for r in rows if r["user_id"] in users]

    def intents(self, users: set[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 100}
        while True:
            page = httpx.get(
                f"{self.localstripe.api_base}/v1/payment_intents",
                params=params,
                headers={"Authorization": f"Bearer {KEY}"},
                timeout=30,
            ).json()
            found += [p for p in page["data"] if p["metadata"].get("user_id") in users]
            if not page["has_more"]:
                return found
            params["starting_after"] = page["data"][-1]["id"]

    def post_event(self, event_id: str, kind: str, obj: dict[str, Any]) -> httpx.Response:
        body = json.dumps({"id": event_id, "type": kind, "data": {"object": obj}}).encode()
        ts = int(time.time())
        mac = hmac.new(WEBHOOK_SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256)
        headers = {"Stripe-Signature": f"t={ts},v1={mac.hexdigest()}"}
        return httpx.post(f"{self.url}/stripe/webhook", content=body, headers=headers, timeout=30)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with LocalStripe() as localstripe:
        s = Stack(localstripe, tmp_path)
        localstripe.register_webhook("stack", f"{s.url}/stripe/webhook", WEBHOOK_SECRET)
        try:
            yield s
        finally:
            s.stop()


def check_ledger(stack: Stack, users: set[str], request_ids: set[str]) -> dict[str, int]:
    """The invariants, and the figures the suites print: every PaymentIntent matches exactly one
    record (same amount, same outcome); no record lost; no requestId charged twice."""
    records = stack.records(users)
    intents = stack.intents(users)
    by_tx = {r["transaction_id"]: r for r in records}
    per_tx: dict[str, int] = {}
    for pi in intents:
        tx = pi["metadata"]["transaction_id"]
        per_tx[tx] = per_tx.get(tx, 0) + 1
        record = by_tx.get(tx)
        assert record is not None, f"{pi['id']} has no record"
        assert record["total_cents"] == pi["amount"]
        expected = {"succeeded": "succeeded", "requires_payment_method": "failed"}[pi["status"]]
        assert record["status"] == expected, (record["status"], pi["status"])
        assert record["payment_intent_id"] == pi["id"]
    duplicates = sum(n - 1 for n in per_tx.values())
    assert duplicates == 0
    assert {r["request_id"] for r in records} == request_ids  # none lost
    assert len(records) == len(request_ids)  # one record per requestId
    assert not [r for r in records if r["status"] in ("pending", "requires_action")]
    for r in records:
        if r["status"] == "succeeded":
            assert per_tx.get(r["transaction_id"]) == 1, "a paid record without its charge"
    return {
        "purchases": len(request_ids),
        "PaymentIntents": len(intents),
        "records": len(records),
        "duplicates": duplicates,
    }
