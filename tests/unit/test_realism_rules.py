"""The stand-in's rules without a network: rolling windows, endpoint names, seeded latency."""

from __future__ import annotations

import pytest

from couchpay.offline_stripe.realism_rules import (
    Latency,
    RealismSettings,
    RollingWindows,
    endpoint_of,
)


def test_endpoints_are_named_api_operations_ids_folded() -> None:
    assert endpoint_of("post", "/v1/payment_intents?expand[]=x") == "POST /v1/payment_intents"
    assert endpoint_of("POST", "/v1/payment_intents/pi_3Abc_secret/confirm") == (
        "POST /v1/payment_intents/{id}/confirm"
    )
    assert endpoint_of("GET", "/v1/payment_intents/pi_1") == endpoint_of(
        "GET", "/v1/payment_intents/pi_2"
    )
    assert endpoint_of("GET", "/v1/payment_intents/pi_1") != "POST /v1/payment_intents/{id}"


def test_rolling_window_refuses_the_26th_in_a_second_and_admits_it_a_second_later() -> None:
    settings = RealismSettings(mode="live")  # account 100, endpoint 25
    windows = RollingWindows()
    assert all(
        windows.admit("POST /v1/payment_intents", i / 100, settings) is None for i in range(25)
    )
    assert windows.admit("POST /v1/payment_intents", 0.5, settings) == "endpoint"
    assert windows.admit("GET /v1/customers/{id}", 0.5, settings) is None  # another endpoint
    assert windows.admit("POST /v1/payment_intents", 1.001, settings) is None  # 0.00 left
    assert windows.admit("POST /v1/payment_intents", 1.002, settings) == "endpoint"


def test_test_mode_account_limit_is_25_across_endpoints() -> None:
    settings = RealismSettings(mode="test")
    windows = RollingWindows()
    for i in range(25):
        assert windows.admit(f"GET /v1/thing{i}", 0.0, settings) is None
    assert windows.admit("GET /v1/other", 0.9, settings) == "account"
    assert windows.admit("GET /v1/other", 1.0, settings) is None


def test_refused_requests_do_not_fill_the_window() -> None:
    settings = RealismSettings(endpoint_limit=1, window_seconds=1.0)
    windows = RollingWindows()
    assert windows.admit("E", 0.0, settings) is None
    for t in (0.2, 0.4, 0.6, 0.8):
        assert windows.admit("E", t, settings) == "endpoint"
    assert windows.admit("E", 1.01, settings) is None


def test_latency_is_uniform_in_its_range_and_seeded() -> None:
    settings = RealismSettings(seed=42)
    a, b = Latency(42), Latency(42)
    slow = [a.draw("POST /v1/payment_intents", settings) for _ in range(200)]
    assert slow == [b.draw("POST /v1/payment_intents", settings) for _ in range(200)]
    assert all(0.4 <= d <= 0.8 for d in slow)
    fast = [a.draw("GET /v1/customers/{id}", settings) for _ in range(200)]
    assert all(0.1 <= d <= 0.25 for d in fast)


@pytest.mark.parametrize(
    "changes",
    [{"mode": "sandbox"}, {"endpoint_limit": 0}, {"slow_latency": [0.8, 0.4]}, {"nope": 1}],
)
def test_bad_settings_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RealismSettings().updated(changes)
