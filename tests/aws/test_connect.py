"""`$connect`: Cognito user-pool tokens, verified through the pool's JWKS (served on loopback),
refused with 403 before the socket opens; an accepted connection is recorded for its user."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from couchpay.adapters.aws_connections import AwsConnections
from couchpay.adapters.cognito_tokens import CognitoTokens
from couchpay.adapters.dynamodb_store import DynamoDbSettings
from couchpay.domain.errors import Unauthorized
from couchpay.entrypoints.aws_lambda import _runtime, connect
from tests.aws.identity import TestUserPool, new_key
from tests.aws.servers import Moto


def connect_event(token: str | None, connection_id: str = "conn-1") -> dict[str, Any]:
    event: dict[str, Any] = {
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "connectionId": connection_id,
            "apiId": "abc123",
            "stage": "test",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        },
        "isBase64Encoded": False,
    }
    if token is not None:
        event["queryStringParameters"] = {"token": token}
    return event


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def hs256_with_public_key(pool: TestUserPool, claims: dict[str, Any]) -> str:
    """The classic key-confusion forgery: HMAC keyed with the pool's public key (PEM)."""
    pem = pool.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': pool.kid})}.{b64(claims)}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def forged(pool: TestUserPool) -> dict[str, str]:
    """Every way a token must be refused, by name."""
    claims = pool.claims("mallory")
    good = pool.token("mallory")
    header, payload, signature = good.split(".")
    other_key = new_key()
    other_pool = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"
    return {
        "no token": "",
        "not a jwt": "not-a-jwt",
        "expired": pool.token("mallory", ttl=-60),
        "wrong issuer": pool.sign({**claims, "iss": other_pool}),
        "wrong audience (access token)": pool.sign({**claims, "client_id": "someone-elses-app"}),
        "wrong audience (id token)": pool.sign(
            {**pool.claims("mallory", token_use="id"), "aud": "someone-elses-app"}
        ),
        "bad signature": f"{header}.{payload}.{signature[::-1]}",
        "signed by another key": pool.sign(claims, key=other_key),
        "unknown key id": pool.sign(claims, key=other_key, kid="not-in-the-pool"),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': pool.kid})}.{payload}.",
        "alg none, no kid": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "HS256 with the public key": hs256_with_public_key(pool, claims),
        "refresh token_use": pool.sign({**claims, "token_use": "refresh"}),
        "no token_use": pool.sign({k: v for k, v in claims.items() if k != "token_use"}),
        "no subject": pool.sign({k: v for k, v in claims.items() if k != "sub"}),
        "not yet valid": pool.sign({**claims, "nbf": claims["iat"] + 3600}),
    }


REFUSALS = [
    "no token",
    "not a jwt",
    "expired",
    "wrong issuer",
    "wrong audience (access token)",
    "wrong audience (id token)",
    "bad signature",
    "signed by another key",
    "unknown key id",
    "alg none",
    "alg none, no kid",
    "HS256 with the public key",
    "refresh token_use",
    "no token_use",
    "no subject",
    "not yet valid",
]


@pytest.mark.parametrize("case", REFUSALS)
def test_connect_refuses(lambda_env: str, pool: TestUserPool, case: str) -> None:
    token = forged(pool)[case]
    reply = connect.handler(connect_event(token or None), None)
    assert reply["statusCode"] == 403, case
    assert connections().user_of("conn-1") is None


@pytest.mark.parametrize("token_use", ["access", "id"])
def test_connect_accepts_pool_tokens_and_records_the_connection(
    lambda_env: str, pool: TestUserPool, token_use: str
) -> None:
    reply = connect.handler(connect_event(pool.token("fan-7", token_use=token_use)), None)
    assert reply["statusCode"] == 200
    registry = connections()
    assert registry.user_of("conn-1") == "fan-7"
    endpoint = os.environ["COUCHPAY_WS_ENDPOINT"]
    assert registry.connections_of("fan-7") == [("conn-1", endpoint)]


def test_the_management_endpoint_is_the_connections_api_stage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COUCHPAY_WS_ENDPOINT", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    context = connect_event(None)["requestContext"]
    assert _runtime.management_endpoint(context) == (
        "https://abc123.execute-api.eu-west-1.amazonaws.com/test"
    )


def test_an_unreachable_key_set_is_503_not_a_refusal(
    lambda_env: str, pool: TestUserPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the token's fault (so not 403), and not a crash (so not 500): retry later."""
    monkeypatch.setenv("COUCHPAY_JWKS_URL", "http://127.0.0.1:9/.well-known/jwks.json")
    _runtime.reset()
    assert connect.handler(connect_event(pool.token("fan-8")), None)["statusCode"] == 503


def test_keys_are_fetched_once_and_refetched_for_a_new_key_id(pool: TestUserPool) -> None:
    verifier = CognitoTokens(pool.jwks_url, pool.issuer, pool.client_id)
    before = pool.fetches
    for _ in range(3):
        assert verifier.verify(pool.token("fan-9")) == "fan-9"
    assert pool.fetches == before + 1
    with pytest.raises(Unauthorized):
        verifier.verify(pool.sign(pool.claims("fan-9"), key=new_key(), kid="rotated-away"))


def connections() -> AwsConnections:
    """The handlers' connections table (lambda_env points COUCHPAY_DB at it)."""
    return AwsConnections(DynamoDbSettings.from_url(os.environ["COUCHPAY_DB"]))


def test_connect_never_imports_stripe(moto: Moto, pool: TestUserPool, lambda_env: str) -> None:
    """A fresh interpreter runs the handler (a refusal, then an accepted connection) and then
    lists what got imported: no Stripe SDK, no pydantic, no web server, and no boto3 (the
    connection record is one signed HTTP PutItem: adapters/dynamodb_signed.py)."""
    script = f"""
import json, sys
from couchpay.entrypoints.aws_lambda import connect
event = {connect_event(None, "conn-fresh")!r}
refused = connect.handler(event, None)["statusCode"]
event["queryStringParameters"] = {{"token": {json.dumps(pool.token("fan-fresh"))}}}
accepted = connect.handler(event, None)["statusCode"]
loaded = {{m.split(".")[0] for m in sys.modules}}
heavy = sorted(loaded & {{"stripe", "pydantic", "starlette", "uvicorn", "httpx", "localstripe",
                          "boto3", "botocore", "aws_lambda_powertools"}})
print(json.dumps([refused, accepted, heavy]))
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    refused, accepted, heavy = json.loads(out.stdout.strip().splitlines()[-1])
    assert (refused, accepted) == (403, 200), out.stderr
    assert heavy == []
    assert connections().user_of("conn-fresh") == "fan-fresh"
