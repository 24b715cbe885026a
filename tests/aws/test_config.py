"""Choosing the AWS adapters from the environment: COUCHPAY_DB=dynamodb://..., Cognito sign-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from couchpay import bootstrap
from couchpay.adapters.cognito_tokens import CognitoTokens
from couchpay.adapters.dev_tokens import DevTokens
from couchpay.adapters.dynamodb_store import DynamoDbSettings, DynamoDbStore
from couchpay.config import Config, ConfigError
from couchpay.domain.errors import Unauthorized


def test_dynamodb_urls() -> None:
    assert DynamoDbSettings.from_url("dynamodb://couchpay-prod") == DynamoDbSettings(
        "couchpay-prod"
    )
    local = DynamoDbSettings.from_url(
        "dynamodb://dev?region=eu-west-1&endpoint=http://127.0.0.1:8000&create_tables=1"
    )
    assert local == DynamoDbSettings("dev", "eu-west-1", "http://127.0.0.1:8000", True)
    for bad in ("dynamodb://", "dynamodb://a/b", "dynamodb://a b", "dynamodb://a?colour=red"):
        with pytest.raises(ValueError, match="COUCHPAY_DB"):
            DynamoDbSettings.from_url(bad)


def test_build_store_picks_dynamodb_and_connects_to_nothing(tmp_path: Path) -> None:
    config = Config.from_env(
        {"COUCHPAY_DATA_DIR": str(tmp_path / "data"), "COUCHPAY_DB": "dynamodb://couchpay-x"}
    )
    store = bootstrap.build_store(config)
    assert isinstance(store, DynamoDbStore) and store.settings.prefix == "couchpay-x"
    assert store._client is None  # nothing connects until the first call
    assert not (tmp_path / "data").exists()
    with pytest.raises(ConfigError):
        bootstrap.build_store(Config.from_env({"COUCHPAY_DB": "dynamodb://a?nope=1"}))


def test_sign_in_is_cognito_with_a_jwks_url_and_dev_tokens_without(tmp_path: Path) -> None:
    dev = bootstrap.build_sign_in(Config.from_env({"COUCHPAY_DATA_DIR": str(tmp_path)}))
    assert isinstance(dev.verifier, DevTokens)
    assert dev.verify(dev.mint("fan-1")) == "fan-1"
    cognito_env = {
        "COUCHPAY_DATA_DIR": str(tmp_path),
        "COUCHPAY_JWKS_URL": "https://cognito-idp.eu-west-1.amazonaws.com/p/.well-known/jwks.json",
        "COUCHPAY_TOKEN_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/p",
        "COUCHPAY_TOKEN_AUDIENCE": "app-client",
    }
    cognito = bootstrap.build_sign_in(Config.from_env(cognito_env))
    assert isinstance(cognito.verifier, CognitoTokens)
    with pytest.raises(Unauthorized):
        cognito.mint("fan-1")  # no dev tokens once a real identity provider is configured
    with pytest.raises(Unauthorized):
        cognito.verify(dev.mint("fan-1"))
    del cognito_env["COUCHPAY_TOKEN_AUDIENCE"]
    with pytest.raises(ConfigError, match="COUCHPAY_TOKEN_AUDIENCE"):
        bootstrap.build_sign_in(Config.from_env(cognito_env))
