"""Property-based fuzzing of every action over a real socket: random JSON, wrong types, huge
and negative numbers, unicode, deep nesting, oversized frames, mixed-up action names.

Each frame gets a well-formed reply (no crash, no hang), the connection keeps serving, and the
database is byte-for-byte the same afterwards."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from couchpay.wire.routes import ROUTES
from tests.e2e.conftest import Server
from tests.figures import report
from tests.hostile.conftest import snapshot

BATCHES, PER_BATCH = 1000, 10  # 10,000 frames
FIELDS = [
    "userId",
    "cogId",
    "cardId",
    "items",
    "stripePayment",
    "setupIntentId",
    "saveCard",
    "transactionId",
    "limit",
    "cursor",
    "nextCursor",
    "item_id",
    "price_cents",
    "quantity",
    "id",
]
CODE = re.compile(r"^[a-z][a-z0-9_]*$")

numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.sampled_from([0, -1, 1, 99_999_999, 100_000_000, 2**63]),
)
texts = st.one_of(st.text(max_size=40), st.sampled_from(["", "pm_", "pm_x", "seti_y", "🎸" * 9]))
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)
    ),
    max_leaves=12,
)
actions = st.one_of(
    st.sampled_from(sorted(ROUTES)),
    st.sampled_from(sorted(ROUTES)).map(str.upper),
    st.sampled_from(sorted(ROUTES)).map(lambda a: a + "-resp-success"),
    st.text(max_size=20),
    values,
)
messages = st.one_of(st.dictionaries(st.sampled_from(FIELDS), values, max_size=6), values)
envelopes = st.fixed_dictionaries(
    {"action": actions, "message": messages},
    optional={"requestId": st.one_of(texts, numbers, st.none())},
).map(json.dumps)
frames = st.one_of(
    envelopes,
    values.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=200),
    st.integers(1, 30).map(lambda n: "[" * (n * 1000) + "]" * (n * 1000)),
    st.integers(33, 60).map(lambda kb: json.dumps({"action": "get-items", "pad": "x" * kb * 1024})),
)


def well_formed(reply: dict[str, Any]) -> bool:
    if not (isinstance(reply.get("action"), str) and isinstance(reply.get("message"), dict)):
        return False
    if "requestId" not in reply:
        return False
    action, msg = reply["action"], reply["message"]
    if action == "error" or action.endswith(("-failure", "-error")):
        return bool(CODE.match(str(msg.get("code")))) and isinstance(msg.get("error"), str)
    return True


@pytest.fixture(scope="module")
def socket(hostile_server: Server) -> Iterator[ClientConnection]:
    url = f"{hostile_server.ws_url}?token={hostile_server.token('fuzz-fan', 3600)}"
    with connect(url, max_size=2**22) as ws:
        for warm_up in ("get-items", "get-user-credit-card", "create-setup-intent"):
            ws.send(json.dumps({"action": warm_up, "requestId": "warm"}))
            assert json.loads(ws.recv(timeout=30))["action"] != "error"
        yield ws


def test_ten_thousand_hostile_frames_change_nothing(
    hostile_server: Server, socket: ClientConnection
) -> None:
    before = snapshot(hostile_server.data_dir)
    sent = {"frames": 0, "errors": 0, "successes": 0}

    @settings(
        max_examples=BATCHES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(frames, min_size=PER_BATCH, max_size=PER_BATCH))
    def batch(batch_frames: list[str | bytes]) -> None:
        for frame in batch_frames:
            socket.send(frame)
            reply = json.loads(socket.recv(timeout=30))
            assert well_formed(reply), (frame[:200], reply)
            sent["frames"] += 1
            failed = reply["action"] == "error" or reply["action"].endswith(("-failure", "-error"))
            sent["errors" if failed else "successes"] += 1
        socket.send(json.dumps({"action": "get-items", "requestId": "ping"}))
        assert json.loads(socket.recv(timeout=30))["action"] == "get-items-resp-success"

    batch()
    changed = sum(1 for t, rows in snapshot(hostile_server.data_dir).items() if rows != before[t])
    report(
        f"fuzz: frames tried {sent['frames']}, error replies {sent['errors']}, "
        f"harmless reads {sent['successes']}, tables changed {changed}"
    )
    assert sent["frames"] >= BATCHES * PER_BATCH
    assert changed == 0
