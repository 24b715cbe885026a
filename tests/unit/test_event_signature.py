"""The receiver's check (``couchpay.client.verify_event``) against what the deliverer signs."""

import json

import pytest

from couchpay.client import EventSignatureError, verify_event
from couchpay.domain.event_signature import sign

SECRET = "whsec_test"
BODY = json.dumps({"id": "evt_1", "type": "purchase.succeeded"}).encode()
NOW = 1_900_000_000


def test_a_signed_delivery_verifies_and_parses() -> None:
    header = sign(SECRET, NOW, BODY)
    assert verify_event(BODY, header, SECRET, now=NOW + 10)["id"] == "evt_1"


def test_one_matching_signature_of_several_is_enough_during_a_rotation() -> None:
    header = sign(["whsec_old", SECRET], NOW, BODY)
    assert verify_event(BODY, header, SECRET, now=NOW)["type"] == "purchase.succeeded"


@pytest.mark.parametrize(
    ("body", "header", "why"),
    [
        (BODY, sign("whsec_other", NOW, BODY), "signature does not match"),
        (BODY + b" ", sign(SECRET, NOW, BODY), "signature does not match"),
        (BODY, sign(SECRET, NOW + 1, BODY).replace(f"t={NOW + 1}", f"t={NOW}"), "does not match"),
        (BODY, "", "no signature header"),
        (BODY, "v1=abc", "malformed"),
        (BODY, f"t=soon,v1={'0' * 64}", "malformed"),
        (BODY, "t=\u00b2,v1=ab", "malformed"),  # a digit to str.isdigit, not to int()
        (BODY, f"t={'9' * 5000},v1=ab", "malformed"),  # past int()'s digit limit
        (BODY, f"t={NOW},v1=\u00e9", "does not match"),  # not ASCII: compare_digest would raise
    ],
)
def test_bad_signatures_are_rejected(body: bytes, header: str, why: str) -> None:
    with pytest.raises(EventSignatureError, match=why):
        verify_event(body, header, SECRET, now=NOW)


def test_a_stale_or_future_timestamp_is_rejected() -> None:
    header = sign(SECRET, NOW, BODY)
    with pytest.raises(EventSignatureError, match="tolerance"):
        verify_event(BODY, header, SECRET, now=NOW + 301)
    with pytest.raises(EventSignatureError, match="tolerance"):
        verify_event(BODY, header, SECRET, now=NOW - 301)
    assert verify_event(BODY, header, SECRET, now=NOW + 1000, tolerance_seconds=1000)


def test_endpoints_without_a_signing_secret_are_refused() -> None:
    from couchpay.config import Config, ConfigError

    with pytest.raises(ConfigError, match="COUCHPAY_EVENTS_SECRET"):
        Config.from_env({"COUCHPAY_EVENTS_URLS": "https://stream.example/hook"})
    with pytest.raises(ConfigError, match="not an http"):
        Config.from_env({"COUCHPAY_EVENTS_URLS": "ftp://x", "COUCHPAY_EVENTS_SECRET": "s"})
    config = Config.from_env(
        {"COUCHPAY_EVENTS_URLS": "https://a/h, https://b/h", "COUCHPAY_EVENTS_SECRET": "s"}
    )
    assert config.events_urls == ("https://a/h", "https://b/h")
