"""Every action x {own resource, another user's, no token, expired, forged signature, wrong
issuer, wrong audience, alg none}: only the first is allowed, and nothing is written for the
others."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import pytest
import websockets

from couchpay.client import CouchpayClient
from couchpay.wire.routes import ROUTES
from tests.e2e.conftest import Server
from tests.e2e.helpers import cart
from tests.figures import report
from tests.hostile.conftest import dev_key, snapshot
from tests.shipping import ADDRESS
from tests.stripe_browser import create_payment_method

VISA = "4242424242424242"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def bad_tokens(server: Server, user: str) -> dict[str, str]:
    key, now = dev_key(server), int(time.time())
    claims = {"sub": user, "iss": "couchpay-dev", "aud": "couchpay", "iat": now, "exp": now + 600}
    good = jwt.encode(claims, key, algorithm="HS256")
    head, body, signature = good.split(".")
    return {
        "no token": "",
        "expired token": jwt.encode({**claims, "exp": now - 60}, key, algorithm="HS256"),
        "forged signature": jwt.encode(claims, b"x" * 32, algorithm="HS256"),
        "tampered subject": f"{head}.{_b64({**claims, 'sub': 'x'})}.{signature}",
        "wrong issuer": jwt.encode({**claims, "iss": "https://evil"}, key, algorithm="HS256"),
        "wrong audience": jwt.encode({**claims, "aud": "other-app"}, key, algorithm="HS256"),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{body}.",
    }


async def test_authorization_matrix(hostile_server: Server) -> None:
    server = hostile_server
    owner, intruder = f"owner-{uuid.uuid4().hex[:6]}", f"intruder-{uuid.uuid4().hex[:6]}"
    mine = await server.client(owner)
    theirs = await server.client(intruder)
    pm = create_payment_method(server.stripe_api_base, VISA)
    card = (await mine.call("create-payment-method", {"stripePayment": pm}))["message"]["uuid"]
    items = await cart(mine)
    paid = await mine.call(
        "purchase-request", {"cardId": card, "items": items, "shippingAddress": ADDRESS}
    )
    tx = paid["message"]["transactionId"]
    await theirs.call("get-user-credit-card")  # the intruder exists too, with an empty wallet

    # the owner's resources, as each action names them
    owners: dict[str, dict[str, Any]] = {
        "get-items": {"userId": owner},
        "create-setup-intent": {"cogId": owner},
        "create-payment-method": {"stripePayment": pm},
        "get-user-credit-card": {"userId": owner},
        "set-default-card": {"cardId": card},
        "delete-credit-card": {"cardId": card},
        "purchase-request": {"cardId": card, "items": items, "shippingAddress": ADDRESS},
        "confirm-purchase": {"transactionId": tx},
        "get-purchase": {"transactionId": tx},
        "get-user-purchases": {"userId": owner},
        "get-user-entitlements": {"userId": owner},
    }
    assert set(owners) == set(ROUTES), "every action is in the matrix"
    before = snapshot(server.data_dir)
    denied, rows = 0, []
    for action, message in owners.items():
        reply = await theirs.call(action, message)
        refused = reply["action"].endswith(("-failure", "-error"))
        assert refused, (action, reply)
        assert reply["message"]["code"] in {"unauthorized", "not_found", "card_not_valid"}
        denied += 1
        rows.append((action, "another user's", reply["message"]["code"]))
        for name, token in bad_tokens(server, owner).items():
            with pytest.raises(websockets.InvalidStatus) as refused_at_door:
                await CouchpayClient.connect(server.ws_url, token)
            assert refused_at_door.value.response.status_code == 403
            denied += 1
            rows.append((action, name, "403 at connect"))
    changed = sum(1 for t, r in snapshot(server.data_dir).items() if r != before[t])

    # and the owner may do each of them
    allowed = 0
    own = {
        **owners,
        "create-payment-method": {
            "stripePayment": create_payment_method(server.stripe_api_base, "4111111111111111")
        },
        "purchase-request": {"cardId": card, "items": items[:1], "shippingAddress": ADDRESS},
    }
    for action in [a for a in own if a != "delete-credit-card"] + ["delete-credit-card"]:
        reply = await mine.call(action, own[action])
        assert not reply["action"].endswith(("-failure", "-error")), (action, reply)
        allowed += 1
    await mine.close()
    await theirs.close()
    report(
        f"authorization matrix: cases {allowed + denied}, allowed {allowed} (own), "
        f"denied {denied}, records changed by denied cases {changed}"
    )
    assert changed == 0
    assert denied == len(ROUTES) * 8  # another user's resource + 7 kinds of bad token
