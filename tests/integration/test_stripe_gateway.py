"""StripeGateway against a real localstripe process: the official SDK over real HTTP, no mocks.

Cards are made the way the browser makes them (``tests.stripe_browser``, publishable key only).
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from couchpay.adapters.stripe_gateway import StripeGateway
from couchpay.domain.errors import (
    CardDeclined,
    CardNotValid,
    CouchpayError,
    GatewayUnavailable,
    PaymentRejected,
)
from couchpay.domain.shipping import ShippingAddress
from couchpay.domain.statuses import PaymentIntentStatus
from couchpay.offline_stripe.process import LocalStripe
from couchpay.ports.gateway import PaymentIntentResult, PaymentOptions
from tests import stripe_browser as browser

SECRET_KEY = "sk_test_couchpay_gateway"
VISA = "4242424242424242"
VISA_2 = "4111111111111111"
THREE_D_SECURE = "4000002500003155"
DECLINED_ON_ATTACH = "4000000000000002"
DECLINED_ON_CHARGE = "4000000000000341"
SUMMARY_KEYS = {
    "id",
    "status",
    "amount",
    "currency",
    "created",
    "payment_method",
    "latest_charge",
    "last_payment_error",
    "metadata",
    "outcome",
}


def key() -> str:
    return str(uuid.uuid4())


@pytest.fixture(scope="module")
def gateway(localstripe: LocalStripe) -> StripeGateway:
    return StripeGateway(SECRET_KEY, api_base=localstripe.api_base)


@pytest.fixture
def customer(gateway: StripeGateway) -> str:
    return gateway.create_customer(f"user-{uuid.uuid4()}", key())


def new_pm(localstripe: LocalStripe, number: str, **kwargs: Any) -> str:
    pm_id: str = browser.create_payment_method(localstripe.api_base, number, **kwargs)["id"]
    return pm_id


def pay(
    gateway: StripeGateway, pm_id: str, customer_id: str | None, **metadata: str
) -> PaymentIntentResult:
    return gateway.pay(
        amount_cents=19200,
        currency="usd",
        customer_id=customer_id,
        payment_method_id=pm_id,
        metadata=metadata or {"transaction_id": str(uuid.uuid4())},
        idempotency_key=key(),
    )


def assert_clean_summary(result: PaymentIntentResult) -> None:
    """The summary we store: plain JSON, no client secret, no card details."""
    dumped = json.dumps(result.summary)
    assert set(result.summary) == SUMMARY_KEYS
    assert "secret" not in dumped
    assert "last4" not in dumped and "fingerprint" not in dumped and "exp_" not in dumped
    assert result.summary["id"] == result.id
    assert result.summary["status"] == result.status.value


# customers and payment methods -----------------------------------------------------------
def test_create_customer(gateway: StripeGateway) -> None:
    assert gateway.create_customer("user-1", key()).startswith("cus_")


def test_get_payment_method_reads_stripe_facts(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    created = browser.create_payment_method(
        localstripe.api_base, VISA, exp_month=11, exp_year=2031, name="Ada Lovelace"
    )
    facts = gateway.get_payment_method(created["id"])
    assert facts.payment_method_id == created["id"]
    assert facts.last_four == "4242"
    assert facts.brand == "visa"
    assert (facts.exp_month, facts.exp_year) == (11, 2031)
    assert facts.name_on_card == "Ada Lovelace"
    assert facts.fingerprint == created["card"]["fingerprint"]
    assert facts.customer_id is None
    assert facts.checks_failed is False


def test_fingerprint_is_stable_per_card_number(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    first = gateway.get_payment_method(new_pm(localstripe, VISA))
    second = gateway.get_payment_method(new_pm(localstripe, VISA, exp_month=1, exp_year=2032))
    other = gateway.get_payment_method(new_pm(localstripe, VISA_2))
    assert first.payment_method_id != second.payment_method_id
    assert first.fingerprint == second.fingerprint
    assert other.fingerprint != first.fingerprint
    assert other.last_four == "1111"


def test_unknown_payment_method_is_not_valid(gateway: StripeGateway) -> None:
    with pytest.raises(CardNotValid):
        gateway.get_payment_method("pm_doesnotexist123")


def test_a_non_card_payment_method_is_not_valid(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    sepa = browser._post(
        f"{localstripe.api_base}/v1/payment_methods",
        data={
            "key": browser.PUBLISHABLE_KEY,
            "type": "sepa_debit",
            "sepa_debit[iban]": "DE89370400440532013000",
        },
    )
    with pytest.raises(CardNotValid):
        gateway.get_payment_method(sepa["id"])


def test_attach_then_detach(
    gateway: StripeGateway, localstripe: LocalStripe, customer: str
) -> None:
    pm_id = new_pm(localstripe, VISA)
    attached = gateway.attach_payment_method(pm_id, customer)
    assert attached.customer_id == customer
    assert attached.last_four == "4242"

    gateway.detach_payment_method(pm_id)
    assert gateway.get_payment_method(pm_id).customer_id is None


def test_attach_declined(gateway: StripeGateway, localstripe: LocalStripe, customer: str) -> None:
    pm_id = new_pm(localstripe, DECLINED_ON_ATTACH)
    with pytest.raises(CardDeclined) as caught:
        gateway.attach_payment_method(pm_id, customer)
    assert caught.value.code == "card_declined"
    assert caught.value.message == "Your card was declined."
    assert gateway.get_payment_method(pm_id).customer_id is None


# payments ----------------------------------------------------------------------------------
def test_pay_succeeds(gateway: StripeGateway, localstripe: LocalStripe, customer: str) -> None:
    pm_id = new_pm(localstripe, VISA)
    gateway.attach_payment_method(pm_id, customer)

    result = pay(gateway, pm_id, customer, transaction_id="t-1", user_id="u-1")

    assert result.status is PaymentIntentStatus.SUCCEEDED
    assert result.id.startswith("pi_")
    assert (result.amount, result.currency) == (19200, "usd")
    assert result.metadata == {"transaction_id": "t-1", "user_id": "u-1"}
    assert result.payment_method_id == pm_id
    assert result.client_secret is None
    assert result.error_code is None and result.error_message is None
    assert_clean_summary(result)
    assert result.summary["latest_charge"].startswith("ch_")
    assert result.summary["outcome"] == {  # the offline stand-in answers as Radar would
        "type": "authorized",
        "network_status": "approved_by_network",
        "risk_level": "normal",
    }
    assert result.summary["metadata"] == {"transaction_id": "t-1", "user_id": "u-1"}
    assert result.summary["last_payment_error"] is None

    again = gateway.get_payment_intent(result.id)
    assert again.status is PaymentIntentStatus.SUCCEEDED
    assert again.summary == result.summary


def test_pay_with_a_one_off_card_and_no_customer(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    result = pay(gateway, new_pm(localstripe, VISA_2), None)
    assert result.status is PaymentIntentStatus.SUCCEEDED


def test_three_d_secure_completed(gateway: StripeGateway, localstripe: LocalStripe) -> None:
    result = pay(gateway, new_pm(localstripe, THREE_D_SECURE), None)

    assert result.status is PaymentIntentStatus.REQUIRES_ACTION
    assert result.client_secret is not None
    assert result.client_secret.startswith(f"{result.id}_secret_")
    assert_clean_summary(result)
    assert result.client_secret not in json.dumps(result.summary)

    browser.authenticate_payment_intent(
        localstripe.api_base, result.id, result.client_secret, success=True
    )
    after = gateway.get_payment_intent(result.id)
    assert after.status is PaymentIntentStatus.SUCCEEDED
    assert after.client_secret is None
    assert after.error_code is None


def test_three_d_secure_failed(gateway: StripeGateway, localstripe: LocalStripe) -> None:
    result = pay(gateway, new_pm(localstripe, THREE_D_SECURE), None)
    assert result.client_secret is not None

    browser.authenticate_payment_intent(
        localstripe.api_base, result.id, result.client_secret, success=False
    )
    after = gateway.get_payment_intent(result.id)
    assert after.status is PaymentIntentStatus.REQUIRES_PAYMENT_METHOD
    assert after.error_code == "payment_intent_authentication_failure"
    assert after.error_message
    assert after.summary["last_payment_error"]["code"] == "payment_intent_authentication_failure"
    assert_clean_summary(after)


def test_declined_on_charge_is_a_result_on_a_real_payment_intent(
    gateway: StripeGateway, localstripe: LocalStripe, customer: str
) -> None:
    pm_id = new_pm(localstripe, DECLINED_ON_CHARGE)
    gateway.attach_payment_method(pm_id, customer)  # attaching works, charging does not

    result = pay(gateway, pm_id, customer, transaction_id="t-declined")

    assert result.status is PaymentIntentStatus.REQUIRES_PAYMENT_METHOD
    assert result.id.startswith("pi_")
    assert result.error_code == "card_declined"
    assert result.error_message == "Your card was declined."
    assert result.metadata == {"transaction_id": "t-declined"}
    assert result.client_secret is None
    assert_clean_summary(result)
    assert result.summary["last_payment_error"]["code"] == "card_declined"

    stored = gateway.get_payment_intent(result.id)
    assert stored.status is PaymentIntentStatus.REQUIRES_PAYMENT_METHOD
    assert stored.error_code == "card_declined"


def test_cancel_payment_intent(gateway: StripeGateway, localstripe: LocalStripe) -> None:
    pending = pay(gateway, new_pm(localstripe, THREE_D_SECURE), None)
    canceled = gateway.cancel_payment_intent(pending.id, key())
    assert canceled.id == pending.id
    assert canceled.status is PaymentIntentStatus.CANCELED
    assert canceled.client_secret is None
    assert gateway.get_payment_intent(pending.id).status is PaymentIntentStatus.CANCELED


def test_cancel_a_succeeded_payment_is_rejected(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    paid = pay(gateway, new_pm(localstripe, VISA), None)
    with pytest.raises(PaymentRejected) as caught:
        gateway.cancel_payment_intent(paid.id, key())
    assert caught.value.code == "payment_rejected"


def test_unknown_payment_intent_is_rejected(gateway: StripeGateway) -> None:
    with pytest.raises(PaymentRejected):
        gateway.get_payment_intent("pi_doesnotexist123")


# setup intents -------------------------------------------------------------------------
def test_setup_intent_create_confirm_get(
    gateway: StripeGateway, localstripe: LocalStripe, customer: str
) -> None:
    created = gateway.create_setup_intent(customer, key())
    assert created.id.startswith("seti_")
    assert created.status == "requires_payment_method"
    assert created.customer_id == customer
    assert created.payment_method_id is None
    assert created.client_secret is not None

    pm_id = new_pm(localstripe, VISA)
    browser.confirm_setup_intent(localstripe.api_base, created.id, created.client_secret, pm_id)

    fetched = gateway.get_setup_intent(created.id)
    assert fetched.status == "succeeded"
    assert fetched.payment_method_id == pm_id
    assert fetched.customer_id == customer
    assert fetched.client_secret is None


# failures at the boundary ---------------------------------------------------------------
def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_stripe_is_gateway_unavailable() -> None:
    gateway = StripeGateway(SECRET_KEY, api_base=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(GatewayUnavailable) as caught:
        gateway.create_customer("user-1", key())
    assert caught.value.code == "payment_processing"
    assert SECRET_KEY not in str(caught.value)
    with pytest.raises(GatewayUnavailable):
        gateway.pay(
            amount_cents=100,
            currency="usd",
            customer_id=None,
            payment_method_id="pm_x",
            metadata={},
            idempotency_key=key(),
        )


def test_a_wrong_key_never_shows_in_errors(localstripe: LocalStripe) -> None:
    wrong_key = "wrong_key_do_not_echo_7f3a9c"  # localstripe only accepts sk_... keys
    gateway = StripeGateway(wrong_key, api_base=localstripe.api_base)
    assert wrong_key not in repr(gateway)
    calls: list[Callable[[], object]] = [
        lambda: gateway.create_customer("user-1", key()),
        lambda: gateway.get_payment_method("pm_whatever"),
        lambda: gateway.get_payment_intent("pi_whatever"),
        lambda: pay(gateway, "pm_whatever", None),
    ]
    for call in calls:
        with pytest.raises(CouchpayError) as caught:
            call()
        error = caught.value
        assert isinstance(error, PaymentRejected)
        for text in (str(error), error.message, error.code, repr(error)):
            assert wrong_key not in text
            assert "wrong_key" not in text


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError):
        StripeGateway("")


# idempotency keys on the wire ------------------------------------------------------------
class _Recorder(BaseHTTPRequestHandler):
    """A stand-in Stripe that records each request's idempotency key and answers minimal JSON."""

    seen: list[tuple[str, str, str | None]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append(("POST", self.path, self.headers.get("Idempotency-Key")))
        if self.path.startswith("/v1/customers"):
            body: dict[str, Any] = {"id": "cus_1", "object": "customer"}
        elif self.path.startswith("/v1/payment_methods"):
            body = {
                "id": "pm_1",
                "object": "payment_method",
                "type": "card",
                "customer": None,
                "billing_details": {},
                "card": {"brand": "visa", "last4": "4242", "exp_month": 1, "exp_year": 2031},
            }
        elif self.path.startswith("/v1/setup_intents"):
            body = {"id": "seti_1", "object": "setup_intent", "status": "requires_payment_method"}
        else:
            body = {"id": "pi_1", "object": "payment_intent", "status": "canceled", "amount": 1}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[str, str, str | None]]]]:
    seen: list[tuple[str, str, str | None]] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_every_mutating_call_sends_an_idempotency_key(
    recorder: tuple[str, list[tuple[str, str, str | None]]],
) -> None:
    api_base, seen = recorder
    gateway = StripeGateway(SECRET_KEY, api_base=api_base)
    gateway.create_customer("user-1", "k-customer")
    gateway.attach_payment_method("pm_1", "cus_1")
    gateway.detach_payment_method("pm_1")
    gateway.create_setup_intent("cus_1", "k-setup")
    gateway.pay(
        amount_cents=100,
        currency="usd",
        customer_id="cus_1",
        payment_method_id="pm_1",
        metadata={},
        idempotency_key="k-pay",
    )
    gateway.cancel_payment_intent("pi_1", "k-cancel")
    assert seen == [
        ("POST", "/v1/customers", "k-customer"),
        ("POST", "/v1/payment_methods/pm_1/attach", "attach-pm_1-cus_1"),
        ("POST", "/v1/payment_methods/pm_1/detach", "detach-pm_1"),
        ("POST", "/v1/setup_intents", "k-setup"),
        ("POST", "/v1/payment_intents", "k-pay"),
        ("POST", "/v1/payment_intents/pi_1/cancel", "k-cancel"),
    ]


def test_pay_sends_shipping_receipt_email_and_setup_future_usage(
    gateway: StripeGateway, localstripe: LocalStripe, customer: str
) -> None:
    address = ShippingAddress.parse(
        name="Ada Lovelace",
        line1="12 St James's Square",
        city="London",
        postal_code="SW1Y 4JH",
        country="gb",
    )
    intent = gateway.pay(
        amount_cents=19200,
        currency="usd",
        customer_id=customer,
        payment_method_id=new_pm(localstripe, VISA),
        metadata={"transaction_id": str(uuid.uuid4())},
        idempotency_key=key(),
        options=PaymentOptions(address, "ada@example.com", save_for_later=True),
    )
    assert intent.status is PaymentIntentStatus.SUCCEEDED
    at_stripe = httpx.get(
        f"{localstripe.api_base}/v1/payment_intents/{intent.id}",
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
    ).json()
    assert at_stripe["shipping"]["name"] == "Ada Lovelace"
    assert at_stripe["shipping"]["address"] == {
        "line1": "12 St James's Square",
        "line2": None,
        "city": "London",
        "state": None,
        "postal_code": "SW1Y 4JH",
        "country": "GB",
    }
    assert at_stripe["receipt_email"] == "ada@example.com"
    assert at_stripe["setup_future_usage"] == "off_session"


def test_the_offline_stripe_refuses_a_malformed_shipping(
    localstripe: LocalStripe, customer: str
) -> None:
    response = httpx.post(
        f"{localstripe.api_base}/v1/payment_intents",
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
        data={"amount": 500, "currency": "usd", "shipping[name]": "Ada"},
    )
    assert response.status_code == 400, response.text
