"""Stripe misbehaving between us and it: lost answers, resets, 5xx, 429, slowness.

Through a fault proxy in front of a real localstripe: the gateway retries with the same
idempotency key, so a charge is made at most once; when the outcome stays unknown, the purchase
stays pending, the user is told it is processing, and reconcile settles it later."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from couchpay.adapters.sqlite_store import SqliteStore
from couchpay.adapters.stripe_gateway import StripeGateway
from couchpay.domain.errors import GatewayBusy, GatewayUnavailable
from couchpay.domain.statuses import PurchaseStatus
from couchpay.offline_stripe.process import LocalStripe
from couchpay.service.reconcile import reconcile
from couchpay.wire.protocol import handle_frame
from tests.faults.proxy import FaultProxy
from tests.figures import report
from tests.services import services
from tests.shipping import ADDRESS
from tests.stripe_browser import create_payment_method

KEY = "sk_test_couchpay_offline"
INTENTS = "/v1/payment_intents"


@pytest.fixture
def proxy(localstripe: LocalStripe) -> Iterator[FaultProxy]:
    with FaultProxy(localstripe.api_base) as p:
        yield p


def gateway_via(proxy: FaultProxy, timeout: float = 5.0) -> StripeGateway:
    return StripeGateway(KEY, api_base=proxy.url, timeout_seconds=timeout, backoff_seconds=0.05)


def intents_named(localstripe: LocalStripe, tag: str) -> list[dict[str, object]]:
    found, params = [], {"limit": 100}
    while True:
        page = httpx.get(
            f"{localstripe.api_base}{INTENTS}",
            params=params,
            headers={"Authorization": f"Bearer {KEY}"},
        ).json()
        found += [pi for pi in page["data"] if pi["metadata"].get("tag") == tag]
        if not page["has_more"]:
            return found
        params["starting_after"] = page["data"][-1]["id"]


def pay(gateway: StripeGateway, localstripe: LocalStripe, tag: str) -> str:
    pm = create_payment_method(localstripe.api_base, "4242424242424242")["id"]
    return gateway.pay(
        amount_cents=19200,
        currency="usd",
        customer_id=None,
        payment_method_id=pm,
        metadata={"tag": tag},
        idempotency_key=f"purchase-{tag}",
    ).status.value


@pytest.mark.parametrize(
    "faults",
    [["status:503"], ["status:429", "status:429"], ["drop"], ["reset"], ["status:500", "drop"]],
    ids="+".join,
)
def test_transient_faults_are_retried_with_the_same_key_and_charge_once(
    proxy: FaultProxy, localstripe: LocalStripe, faults: list[str], request: pytest.FixtureRequest
) -> None:
    tag = request.node.callspec.id
    proxy.plan("POST", INTENTS, faults)
    assert pay(gateway_via(proxy), localstripe, tag) == "succeeded"
    attempts = proxy.attempts("POST", INTENTS)
    assert len(attempts) == len(faults) + 1
    assert {a.idempotency_key for a in attempts} == {f"purchase-{tag}"}
    charged = intents_named(localstripe, tag)
    report(f"{tag}: attempts {len(attempts)}, PaymentIntents {len(charged)}")
    assert len(charged) == 1


def test_a_paced_gateway_hands_a_429_to_the_line_and_the_same_key_charges_once_later(
    proxy: FaultProxy, localstripe: LocalStripe
) -> None:
    """Stripe's rate limit is not slept on inside the gateway: the admission line slows down and
    sends the purchase again later, with the same idempotency key."""
    proxy.plan("POST", INTENTS, ["status:429"])
    gateway = StripeGateway(KEY, api_base=proxy.url, paced=True)
    with pytest.raises(GatewayBusy):
        pay(gateway, localstripe, "busy")
    assert len(proxy.attempts("POST", INTENTS)) == 1
    assert intents_named(localstripe, "busy") == []
    assert pay(gateway, localstripe, "busy") == "succeeded"
    assert {a.idempotency_key for a in proxy.attempts("POST", INTENTS)} == {"purchase-busy"}
    assert len(intents_named(localstripe, "busy")) == 1


def test_a_slow_answer_times_out_and_the_retry_replays_the_first_charge(
    proxy: FaultProxy, localstripe: LocalStripe
) -> None:
    proxy.plan("POST", INTENTS, ["delay:1.5"])
    assert pay(gateway_via(proxy, timeout=0.5), localstripe, "slow") == "succeeded"
    assert len(proxy.attempts("POST", INTENTS)) == 2
    assert len(intents_named(localstripe, "slow")) == 1


def test_stripe_down_for_good_is_gateway_unavailable_after_bounded_attempts(
    proxy: FaultProxy, localstripe: LocalStripe
) -> None:
    proxy.plan("POST", INTENTS, ["status:503"] * 10)
    with pytest.raises(GatewayUnavailable):
        pay(gateway_via(proxy), localstripe, "down")
    assert len(proxy.attempts("POST", INTENTS)) == 3


def test_unknown_outcome_stays_pending_says_processing_then_reconcile_settles(
    proxy: FaultProxy, localstripe: LocalStripe, tmp_path: Path
) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    svc = services(store, gateway_via(proxy), seed_catalog=True)
    pm = create_payment_method(localstripe.api_base, "4242424242424242")["id"]
    save = json.dumps({"action": "create-payment-method", "message": {"stripePayment": pm}})
    card_id = handle_frame(svc, "fan", save)["message"]["uuid"]
    items = [{"item_id": i.item_id, "price_cents": i.price_cents} for i in store.list_items()]
    # the charge is made at Stripe, but every answer is lost
    proxy.plan("POST", INTENTS, ["drop", "drop", "drop"])
    frame = {
        "action": "purchase-request",
        "requestId": "r-1",
        "message": {"cardId": card_id, "items": items, "shippingAddress": ADDRESS},
    }
    reply = handle_frame(svc, "fan", json.dumps(frame))
    assert reply["action"] == "purchase-request-resp-failure"
    assert (reply["message"]["code"], reply["message"]["status"]) == (
        "payment_processing",
        "pending",
    )
    tx = reply["message"]["transactionId"]
    assert store.get_purchase(tx).status is PurchaseStatus.PENDING  # type: ignore[union-attr]
    summary = reconcile(svc, timedelta(0))
    report(f"unknown outcome: {summary.line()}")
    settled = store.get_purchase(tx)
    assert settled is not None and settled.status is PurchaseStatus.SUCCEEDED
    assert settled.total_cents == 19200 and settled.payment_intent_id
    assert len(proxy.attempts("POST", INTENTS)) == 3  # bounded, and all one key
    assert len({a.idempotency_key for a in proxy.attempts("POST", INTENTS)}) == 1
    replay = handle_frame(svc, "fan", json.dumps(frame))
    assert replay["action"] == "purchase-request-resp-success"
    store.close()
