"""Fixtures for the AWS side: a moto DynamoDB, a test user pool, the Lambda handlers' environment
and, for the tests that need it, the serverless stack on serverless-offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from couchpay.adapters.dynamodb_store import create_missing_tables
from couchpay.entrypoints.aws_lambda import _runtime
from couchpay.offline_stripe.process import LocalStripe
from tests.aws import stack as sls
from tests.aws.identity import TestUserPool
from tests.aws.requirements import need
from tests.aws.servers import FAKE_CREDENTIALS, REGION, Moto

WEBHOOK_SECRET = "whsec_aws_tests_only"


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    with Moto() as server:
        yield server


@pytest.fixture(scope="session")
def pool() -> Iterator[TestUserPool]:
    with TestUserPool() as user_pool:
        yield user_pool


@pytest.fixture
def lambda_env(
    moto: Moto, pool: TestUserPool, localstripe: LocalStripe, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The environment serverless.yml gives the handlers, on fresh moto tables; the prefix."""
    prefix = moto.new_prefix()
    create_missing_tables(moto.client(), prefix)
    env = {
        "COUCHPAY_DB": f"dynamodb://{prefix}?endpoint={moto.endpoint}&region={REGION}",
        "COUCHPAY_DATA_DIR": "/tmp/couchpay-aws-tests",
        "COUCHPAY_WS_ENDPOINT": "http://127.0.0.1:9/offline",
        "COUCHPAY_JWKS_URL": pool.jwks_url,
        "COUCHPAY_TOKEN_ISSUER": pool.issuer,
        "COUCHPAY_TOKEN_AUDIENCE": pool.client_id,
        "STRIPE_SECRET_KEY": sls.STRIPE_SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": localstripe.api_base,
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
        "AWS_REGION": REGION,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("STRIPE_PUBLISHABLE_KEY", raising=False)
    _runtime.reset()
    yield prefix
    _runtime.reset()


@pytest.fixture(scope="module")
def sls_stack(
    tmp_path_factory: pytest.TempPathFactory,
    moto: Moto,
    pool: TestUserPool,
    localstripe: LocalStripe,
) -> Iterator[sls.SlsStack]:
    need(sls.unavailable_reason(), "the serverless stack")
    workdir: Path = tmp_path_factory.mktemp("sls-stack")
    with sls.SlsStack(workdir, moto, localstripe, pool) as stack:
        yield stack
