"""Identity and hostile input over the real socket."""

from __future__ import annotations

import subprocess
import sys

import pytest
import websockets

from couchpay.client import CouchpayClient
from tests.e2e.conftest import Fan, Server
from tests.e2e.helpers import cart, intents_for, save_card
from tests.shipping import ADDRESS


async def test_no_token_and_forged_tokens_are_refused(server: Server) -> None:
    good = server.token("mallory")
    header, payload, _sig = good.split(".")
    forged = [
        "",
        "not-a-jwt",
        f"{header}.{payload}.AAAA",
        f"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.",
        server.token("mallory", ttl=-60),
    ]
    for token in forged:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await CouchpayClient.connect(server.ws_url, token)
        assert refused.value.response.status_code == 403
    async with await CouchpayClient.connect(server.ws_url, good) as ok:
        assert (await ok.call("get-items"))["action"] == "get-items-resp-success"


def test_dev_token_command_prints_a_token_on_its_last_line(server: Server) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "couchpay.entrypoints.cli", "dev-token", "carol"],
        env={"COUCHPAY_DATA_DIR": str(server.data_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    token = out.stdout.strip().splitlines()[-1]
    assert token.count(".") == 2


async def test_other_users_cards_and_purchases_are_out_of_reach(
    server: Server, alice: Fan, bob: Fan
) -> None:
    card = await save_card(server, alice.client)
    items = await cart(bob.client)
    use = await bob.client.call(
        "purchase-request", {"cardId": card["uuid"], "items": items, "shippingAddress": ADDRESS}
    )
    assert (use["action"], use["message"]["code"]) == (
        "purchase-request-resp-failure",
        "card_not_valid",
    )
    delete = await bob.client.call("delete-credit-card", {"cardId": card["uuid"]})
    assert (delete["action"], delete["message"]["code"]) == (
        "delete-credit-card-resp-failure",
        "not_found",
    )
    view = await bob.client.call("get-user-credit-card", {"userId": alice.user_id})
    assert (view["action"], view["message"]["code"]) == (
        "get-user-credit-card-resp-failure",
        "unauthorized",
    )
    history = await bob.client.call("get-user-purchases", {"userId": alice.user_id})
    assert (history["action"], history["message"]["code"]) == (
        "view-purchases-resp-failure",
        "unauthorized",
    )
    bought = await alice.client.call(
        "purchase-request", {"cardId": card["uuid"], "items": items, "shippingAddress": ADDRESS}
    )
    confirm = await bob.client.call(
        "confirm-purchase", {"transactionId": bought["message"]["transactionId"]}
    )
    assert confirm["message"]["code"] == "not_found"
    assert (await bob.client.call("get-user-purchases"))["message"]["purchases"] == []
    wallet = (await alice.client.call("get-user-credit-card"))["message"]["cards"]
    assert [c["id"] for c in wallet] == [card["uuid"]]
    assert intents_for(server, bob.user_id) == []


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{", "bad_request"),
        ('{"action": "no-such-action"}', "unknown_action"),
        ('{"action": "purchase-request", "message": {"items": []}}', "bad_request"),
        ('{"action": "delete-credit-card", "message": {}}', "bad_request"),
        ("x" * 40000, "frame_too_large"),
        (b"\xff\xfe binary", "bad_request"),
    ],
)
async def test_malformed_frames_get_an_error_and_the_socket_keeps_serving(
    alice: Fan, frame: str | bytes, code: str
) -> None:
    reply = await alice.client.send_raw(frame)
    assert reply["action"] == "error"
    assert reply["message"]["code"] == code
    assert (await alice.client.call("get-items"))["action"] == "get-items-resp-success"
