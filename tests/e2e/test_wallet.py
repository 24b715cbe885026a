"""Use cases A and D over a real WebSocket: save, list, default, delete."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import Fan, Server
from tests.e2e.helpers import DECLINE, VISA, VISA_2, payment_method, save_card
from tests.stripe_browser import confirm_setup_intent


async def test_save_a_card_and_see_it_in_the_wallet(server: Server, alice: Fan) -> None:
    pm = payment_method(server, VISA, exp_month=8, exp_year=2031)
    reply = await alice.client.call(
        "create-payment-method",
        {"userId": alice.user_id, "cogId": alice.user_id, "stripePayment": pm},
    )
    assert reply["action"] == "create-payment-method-resp-success"
    card = reply["message"]
    assert (card["lastFour"], card["brand"], card["expMonth"], card["expYear"]) == (
        "4242",
        "visa",
        8,
        2031,
    )
    assert card["status"] == "live"
    wallet = await alice.client.call("get-user-credit-card", {"userId": alice.user_id})
    assert wallet["action"] == "get-user-credit-card-resp-success"
    assert [(c["id"], c["lastFour"], c["isDefault"]) for c in wallet["message"]["cards"]] == [
        (card["uuid"], "4242", True)
    ]
    # attached to a customer at Stripe, as the service re-read and attached it
    at_stripe = httpx.get(
        f"{server.stripe_api_base}/v1/payment_methods/{pm['id']}",
        headers={"Authorization": "Bearer sk_test_couchpay_offline"},
    ).json()
    assert at_stripe["customer"].startswith("cus_")


async def test_the_same_card_twice_is_one_wallet_entry(server: Server, alice: Fan) -> None:
    first = await save_card(server, alice.client, VISA)
    second = await save_card(server, alice.client, VISA)
    assert first["uuid"] == second["uuid"]
    other = await save_card(server, alice.client, VISA_2)
    wallet = (await alice.client.call("get-user-credit-card"))["message"]["cards"]
    assert [c["id"] for c in wallet] == [first["uuid"], other["uuid"]]


async def test_a_card_declined_at_attach_is_an_error_and_not_in_the_wallet(
    server: Server, alice: Fan
) -> None:
    reply = await alice.client.call(
        "create-payment-method", {"stripePayment": payment_method(server, DECLINE)}
    )
    assert reply["action"] == "create-payment-method-resp-error"
    assert reply["message"]["code"] == "card_declined"
    assert (await alice.client.call("get-user-credit-card"))["message"]["cards"] == []


async def test_unknown_payment_method_is_card_not_valid(alice: Fan) -> None:
    reply = await alice.client.call("create-payment-method", {"stripePayment": {"id": "pm_nope"}})
    assert reply["action"] == "create-payment-method-resp-error"
    assert reply["message"]["code"] == "card_not_valid"


async def test_set_default_and_delete(server: Server, alice: Fan) -> None:
    first = await save_card(server, alice.client, VISA)
    second = await save_card(server, alice.client, VISA_2)
    reply = await alice.client.call("set-default-card", {"cardId": second["uuid"]})
    assert reply == {
        "action": "set-default-card-resp-success",
        "message": {"id": second["uuid"], "isDefault": True},
        "requestId": reply["requestId"],
    }
    deleted = await alice.client.call("delete-credit-card", {"cardId": second["uuid"]})
    assert deleted["action"] == "delete-credit-card-resp-success"
    assert deleted["message"] == {"id": second["uuid"], "active": False, "status": "cancelled"}
    wallet = (await alice.client.call("get-user-credit-card"))["message"]["cards"]
    assert [(c["id"], c["isDefault"]) for c in wallet] == [(first["uuid"], True)]
    again = await alice.client.call("delete-credit-card", {"cardId": second["uuid"]})
    assert again["action"] == "delete-credit-card-resp-failure"
    assert again["message"]["code"] == "not_found"


async def test_sca_ready_save_through_a_setup_intent(server: Server, alice: Fan) -> None:
    reply = await alice.client.call("create-setup-intent")
    assert reply["action"] == "get-setup-intent"
    secret = reply["message"]["clientSecret"]
    seti_id = secret.split("_secret_")[0]
    pm = payment_method(server, VISA_2)
    confirm_setup_intent(server.stripe_api_base, seti_id, secret, pm["id"])
    saved = await alice.client.call("create-payment-method", {"setupIntentId": seti_id})
    assert saved["action"] == "create-payment-method-resp-success", saved
    assert saved["message"]["lastFour"] == "1111"
