"""The Stripe secrets on Lambda come from SSM Parameter Store (moto's here), read once per
container: what an operator puts there is what the handlers use, and a rotation reaches new
containers only."""

from __future__ import annotations

import json
import os
import time

import pytest

from couchpay.entrypoints.aws_lambda import _runtime, webhook
from tests.aws.conftest import WEBHOOK_SECRET
from tests.aws.servers import Moto
from tests.aws.test_handlers import FakeManagement, api, http_event, stripe_signature

__all__ = ["api"]  # the fixture, shared


def ping() -> bytes:
    return json.dumps({"id": f"evt_{time.time_ns()}", "type": "ping", "data": {}}).encode()


def test_the_webhook_secret_is_the_one_in_ssm_read_once_per_container(
    api: FakeManagement, moto: Moto
) -> None:
    body = ping()
    assert (
        webhook.handler(http_event(body, stripe_signature(body), False), None)["statusCode"] == 200
    )
    rotated = "whsec_rotated_in_ssm"
    moto.put_secure_string(os.environ["STRIPE_WEBHOOK_SECRET_PARAMETER"], rotated)
    body = ping()  # this container keeps what it read
    assert (
        webhook.handler(http_event(body, stripe_signature(body), False), None)["statusCode"] == 200
    )
    _runtime.reset()  # a new container reads the rotated secret
    old, new = ping(), ping()
    assert webhook.handler(http_event(old, stripe_signature(old), False), None)["statusCode"] == 400
    assert (
        webhook.handler(http_event(new, stripe_signature(new, rotated), False), None)["statusCode"]
        == 200
    )
    assert WEBHOOK_SECRET not in json.dumps(dict(os.environ))  # never put in the environment


def test_without_the_webhook_parameter_the_webhook_answers_503(
    api: FakeManagement, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET_PARAMETER", "/couchpay/nobody/put/this")
    _runtime.reset()
    body = ping()
    assert (
        webhook.handler(http_event(body, stripe_signature(body), False), None)["statusCode"] == 503
    )


def test_without_the_secret_key_parameter_nothing_runs(
    api: FakeManagement, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY_PARAMETER", "/couchpay/nobody/put/this/either")
    _runtime.reset()
    body = ping()
    reply = webhook.handler(http_event(body, stripe_signature(body), False), None)
    assert reply["statusCode"] == 500
    assert "/couchpay/nobody/put/this/either" in caplog.text  # the operator is told which
