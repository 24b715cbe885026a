"""The Stripe stand-in (couchpay.offline_stripe.realism) with the real stripe SDK in front of it
and a real localstripe behind it: Stripe's 429s above the limits and none below, Stripe's error
as the SDK sees it, latency added, and the counters a benchmark reads.

Limits are checked with long windows (60 s), so that no test depends on how fast this machine
is; latency is checked as "at least", never as an upper bound."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import stripe

from couchpay.offline_stripe.process import LocalStripe
from couchpay.offline_stripe.realism import URL_PREFIX
from couchpay.offline_stripe.realism_harness import StripeRealism
from couchpay.offline_stripe.realism_rules import RATE_LIMIT_MESSAGE, RealismSettings
from tests.stripe_browser import create_payment_method

KEY = "sk_test_couchpay_offline"
NO_DELAY = {"slow_latency": (0.0, 0.0), "fast_latency": (0.0, 0.0)}


def client(base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        KEY,
        base_addresses={"api": base},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=30),
    )


@pytest.fixture
def stand_in(localstripe: LocalStripe) -> Iterator[StripeRealism]:
    settings = RealismSettings(account_limit=5, endpoint_limit=3, window_seconds=60.0, seed=7)
    with StripeRealism(localstripe.api_base, settings.updated(NO_DELAY)) as s:
        yield s


def new_customer(sdk: stripe.StripeClient, email: str) -> str:
    return sdk.v1.customers.create(
        {"email": email}, options={"idempotency_key": str(uuid.uuid4())}
    ).id


def test_below_the_endpoint_limit_nothing_is_refused(stand_in: StripeRealism) -> None:
    sdk = client(stand_in.url)
    ids = [new_customer(sdk, f"below-{uuid.uuid4()}@example.com") for _ in range(3)]
    assert len(set(ids)) == 3
    stats = stand_in.stats()
    assert stats["calls"] == 3 and stats["rate_limited"] == 0


def test_above_the_endpoint_limit_the_sdk_gets_a_rate_limit_error_and_stripe_is_untouched(
    stand_in: StripeRealism, localstripe: LocalStripe
) -> None:
    sdk = client(stand_in.url)
    for _ in range(3):
        new_customer(sdk, f"ok-{uuid.uuid4()}@example.com")
    refused_email = f"refused-{uuid.uuid4()}@example.com"
    with pytest.raises(stripe.RateLimitError) as caught:
        new_customer(sdk, refused_email)
    error = caught.value
    assert error.http_status == 429
    assert error.json_body is not None
    assert error.json_body["error"]["type"] == "invalid_request_error"
    assert error.json_body["error"]["code"] == "rate_limit"
    assert error.json_body["error"]["message"] == RATE_LIMIT_MESSAGE
    assert str(error.user_message).startswith("Too many requests hit the API too quickly")
    assert (error.headers or {}).get("Stripe-Should-Retry") == "false"
    # the refused call never reached localstripe
    assert list(client(localstripe.api_base).v1.customers.list({"email": refused_email})) == []
    stats = stand_in.stats()
    assert stats["rate_limited"] == 1 and stats["refused_by"] == {"endpoint": 1}
    assert stats["by_endpoint"]["POST /v1/customers"]["rate_limited"] == 1


def test_the_account_limit_spans_endpoints(stand_in: StripeRealism) -> None:
    sdk = client(stand_in.url)
    for _ in range(3):  # endpoint limit 3 on POST /v1/customers
        new_customer(sdk, f"acct-{uuid.uuid4()}@example.com")
    sdk.v1.customers.list({"limit": 1})  # another endpoint: 4 and 5 of the account's 5
    sdk.v1.customers.list({"limit": 1})
    with pytest.raises(stripe.RateLimitError):
        sdk.v1.customers.list({"limit": 1})
    assert stand_in.stats()["refused_by"] == {"account": 1}


def test_a_test_key_gets_test_mode_limits_and_live_mode_four_times_more() -> None:
    assert RealismSettings(mode="test").account_rate == 25
    assert RealismSettings(mode="live").account_rate == 100
    assert RealismSettings().endpoint_limit == 25


def test_payment_intents_are_counted_per_idempotency_key_and_transaction(
    stand_in: StripeRealism, localstripe: LocalStripe
) -> None:
    sdk = client(stand_in.url)
    customer = new_customer(sdk, f"pi-{uuid.uuid4()}@example.com")
    pm = create_payment_method(localstripe.api_base, "4242424242424242")["id"]
    sdk.v1.payment_methods.attach(pm, {"customer": customer})
    tx = str(uuid.uuid4())
    params: stripe.params.PaymentIntentCreateParams = {
        "amount": 2000,
        "currency": "usd",
        "customer": customer,
        "payment_method": pm,
        "allowed_payment_method_types": ["card"],
        "confirm": True,
        "metadata": {"transaction_id": tx},
    }
    stand_in.configure(enabled=False)  # set-up and replays below: no limit
    first = sdk.v1.payment_intents.create(params, options={"idempotency_key": f"purchase-{tx}"})
    again = sdk.v1.payment_intents.create(params, options={"idempotency_key": f"purchase-{tx}"})
    assert first.id == again.id and first.status == "succeeded"
    stats = stand_in.stats()
    assert stats["payment_intents_created"] == 1
    assert stats["keys_with_several_intents"] == {}
    assert stats["intents_by_transaction"] == {tx: [first.id]}
    # a second key for the same purchase is a double charge, and the stand-in says so
    sdk.v1.payment_intents.create(params, options={"idempotency_key": f"other-{tx}"})
    doubled = stand_in.stats()["transactions_with_several_intents"]
    assert list(doubled) == [tx] and len(doubled[tx]) == 2
    assert stand_in.stats()["intent_requests_by_transaction"] == {tx: 3}


def test_latency_is_added_slow_for_payment_intents(localstripe: LocalStripe) -> None:
    settings = RealismSettings(slow_latency=(0.6, 0.6), fast_latency=(0.2, 0.2), seed=1)
    with StripeRealism(localstripe.api_base, settings) as s:
        sdk = client(s.url)
        started = time.monotonic()
        customer = new_customer(sdk, f"lat-{uuid.uuid4()}@example.com")
        fast = time.monotonic() - started
        pm = create_payment_method(localstripe.api_base, "4242424242424242")["id"]
        started = time.monotonic()
        sdk.v1.payment_intents.create(
            {
                "amount": 2000,
                "currency": "usd",
                "customer": customer,
                "payment_method": pm,
                "allowed_payment_method_types": ["card"],
            }
        )
        slow = time.monotonic() - started
    assert fast >= 0.2
    assert slow >= 0.6


def test_stats_over_http_reset_and_settings(stand_in: StripeRealism) -> None:
    new_customer(client(stand_in.url), f"http-{uuid.uuid4()}@example.com")
    with httpx.Client(base_url=stand_in.url, trust_env=False) as http:
        stats = http.get("/_realism/stats").json()
        assert stats["calls"] == 1 and stats["settings"]["endpoint_limit"] == 3
        assert http.delete("/_realism/stats").status_code == 200
        assert http.get("/_realism/stats").json()["calls"] == 0
        bad = http.post("/_realism/settings", json={"endpoint_limit": 0})
        assert bad.status_code == 400 and bad.json()["code"] == "bad_settings"
        unknown = http.post("/_realism/settings", json={"speed": "fast"})
        assert unknown.status_code == 400 and "speed" in unknown.json()["error"]
        changed = http.post("/_realism/settings", json={"mode": "live", "account_limit": None})
        assert changed.json()["account_rate"] == 100
        assert http.get("/_realism/settings").json()["mode"] == "live"


def test_runner_prints_its_url_and_forwards(localstripe: LocalStripe) -> None:
    command = [
        sys.executable,
        "-m",
        "couchpay.offline_stripe.realism",
        "--upstream",
        localstripe.api_base,
        "--mode",
        "live",
        "--seed",
        "3",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith(URL_PREFIX)
        url = line.removeprefix(URL_PREFIX)
        assert url.startswith("http://127.0.0.1:")
        new_customer(client(url), f"runner-{uuid.uuid4()}@example.com")
        stats = httpx.get(f"{url}/_realism/stats", trust_env=False).json()
        assert stats["calls"] == 1 and stats["settings"]["account_rate"] == 100
    finally:
        proc.terminate()
        proc.wait(10)


def test_runner_refuses_a_bad_range() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "couchpay.offline_stripe.realism", "--slow-latency", "0.8,0.4"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "latency" in done.stderr
