"""Per-user limits over a fake clock, log lines that stay valid JSON, and the losing side of two
concurrent saves of one card (red-team findings 5, 6 and 8, at the unit level; the socket-level
reproductions are in tests/hostile)."""

from __future__ import annotations

import json
import logging

import pytest

from couchpay.domain.cards import Card
from couchpay.limits import UserLimits
from couchpay.logs import JsonFormatter
from couchpay.service.cards import save_card
from tests.services import services
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeGateway, MemoryStore


class Clock:
    def __init__(self, now: float = 1_000_020.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_sockets_are_counted_per_user_and_freed_on_close() -> None:
    limits = UserLimits(max_sockets=2, rate=1, burst=1, stripe_writes_per_minute=1)
    assert limits.open_socket("a") and limits.open_socket("a")
    assert not limits.open_socket("a") and limits.open_socket("b")
    limits.close_socket("a")
    assert limits.open_socket("a")


def test_stripe_writes_are_counted_per_user_per_minute() -> None:
    clock = Clock()
    limits = UserLimits(max_sockets=9, rate=1, burst=1, stripe_writes_per_minute=3, clock=clock)
    assert [limits.take_stripe_write("a") for _ in range(4)] == [True, True, True, False]
    assert limits.take_stripe_write("b")  # another user has an allowance of their own
    clock.now += 60  # the next minute
    assert [limits.take_stripe_write("a") for _ in range(4)] == [True, True, True, False]


def test_frames_share_one_bucket_per_user() -> None:
    clock = Clock()
    limits = UserLimits(max_sockets=9, rate=2, burst=4, stripe_writes_per_minute=1, clock=clock)
    assert [limits.take_frame("a") for _ in range(5)] == [True] * 4 + [False]
    clock.now += 1
    assert [limits.take_frame("a") for _ in range(3)] == [True, True, False]


@pytest.mark.parametrize(
    "request_id", ['token=\\"', 'token="', "token=\\", '\\"token=\\\\"', "sk_live_x\\"]
)
def test_every_log_line_is_json_whatever_a_value_holds(request_id: str) -> None:
    record = logging.LogRecord("couchpay", logging.INFO, "", 0, "frame %s", ("token=abc",), None)
    record.request_id = request_id
    record.nested = {"token=": ["eyJhbGciOi.eyJzdWIi.sig", request_id]}
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "frame token=[redacted]"
    assert "eyJhbGciOi" not in line and "sk_live_x" not in line
    assert entry["nested"]["token="][0] == "[redacted]"


class LateStore(MemoryStore):
    """A store whose card list does not yet show the save that is racing this one (what two
    concurrent saves of one card both see before either has written)."""

    def list_cards(self, user_id: str) -> list[Card]:
        return []


def test_the_losing_save_of_one_card_answers_the_winner_and_detaches_its_own() -> None:
    store, gateway = LateStore(), FakeGateway()
    svc = services(store, gateway, now=lambda: NOW)
    first, second = gateway.card(fingerprint="fp_same"), gateway.card(fingerprint="fp_same")
    winner = save_card(svc, "u1", first)
    loser = save_card(svc, "u1", second)
    assert loser == winner and len(store.cards) == 1
    assert gateway.methods[first][0].customer_id is not None  # the winner stays attached
    assert gateway.methods[second][0].customer_id is None  # the loser's attach was taken back
