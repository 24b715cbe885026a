"""Malformed frames get a well-formed error and change nothing."""

from __future__ import annotations

import json

import pytest

from couchpay.service.context import Services
from couchpay.wire.protocol import handle_frame
from tests.unit.fakes import MemoryStore


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_request"),
        ("[1, 2]", "bad_request"),
        ('{"message": {}}', "unknown_action"),
        ('{"action": "drop-tables"}', "unknown_action"),
        ('{"action": 7}', "unknown_action"),
        ('{"action": "get-items", "message": []}', "bad_request"),
        ('{"action": "purchase-request", "message": {}, "requestId": "x"}', "bad_request"),
        ('{"action": "set-default-card", "message": {"cardId": 5}}', "bad_request"),
        ('{"action": "get-user-purchases", "message": {"limit": "5"}}', "bad_request"),
        ('{"action": "get-user-purchases", "message": {"limit": 100000}}', "bad_request"),
        ('{"action": "get-items", "requestId": {"a": 1}}', "bad_request"),
        ("[" * 100000 + "]" * 100000, "frame_too_large"),
        ("[" * 5000 + "]" * 5000, "bad_request"),
    ],
)
def test_bad_frames(svc: Services, store: MemoryStore, frame: str, code: str) -> None:
    before = (dict(store.cards), dict(store.purchases), dict(store.users))
    reply = handle_frame(svc, "u1", frame)
    assert reply["action"] == "error"
    assert reply["message"]["code"] == code
    assert isinstance(reply["message"]["error"], str) and reply["message"]["error"]
    assert (dict(store.cards), dict(store.purchases), dict(store.users)) == before


def test_item_lines_must_be_whole_positive_numbers(svc: Services) -> None:
    for bad in ({"price_cents": -1}, {"price_cents": 1.5}, {"quantity": 0}, {"quantity": True}):
        item = {"item_id": "x", "price_cents": 1, **bad}
        frame = {
            "action": "purchase-request",
            "requestId": "r",
            "message": {"cardId": "c", "items": [item]},
        }
        reply = handle_frame(svc, "u1", json.dumps(frame))
        assert reply["message"]["code"] == "bad_request", bad


def test_unexpected_errors_become_internal_error_replies(svc: Services, store: MemoryStore) -> None:
    def broken() -> list[object]:
        raise RuntimeError("disk on fire")

    store.list_items = broken  # type: ignore[method-assign]
    reply = handle_frame(svc, "u1", '{"action": "get-items", "requestId": "r"}')
    assert reply == {
        "action": "get-items-resp-failure",
        "message": {"code": "internal_error", "error": "Something went wrong on our side."},
        "requestId": "r",
    }


def test_error_replies_echo_a_well_formed_request_id(svc: Services) -> None:
    reply = handle_frame(svc, "u1", '{"action": "nope", "requestId": "abc"}')
    assert (reply["action"], reply["requestId"]) == ("error", "abc")
    reply = handle_frame(svc, "u1", '{"action": "set-default-card", "requestId": "abc"}')
    assert (reply["message"]["code"], reply["requestId"]) == ("bad_request", "abc")
    reply = handle_frame(svc, "u1", '{"action": "get-items", "requestId": "' + "x" * 200 + '"}')
    assert (reply["message"]["code"], reply["requestId"]) == ("bad_request", None)
