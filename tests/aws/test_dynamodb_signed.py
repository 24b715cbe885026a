"""$connect's boto3-free PutItem: signed exactly as botocore signs (SigV4, compared byte for
byte at a fixed time, with and without a session token), and it writes through a real
DynamoDB endpoint (moto) what boto3 then reads back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from couchpay.adapters import dynamodb_signed as signed
from couchpay.adapters.dynamodb_store import create_missing_tables
from couchpay.adapters.dynamodb_tables import CONNECTIONS
from tests.aws.servers import FAKE_CREDENTIALS, REGION, Moto

AT = datetime(2026, 11, 30, 3, 4, 5, tzinfo=UTC)


def botocore_authorization(url: str, body: bytes, creds: signed.Credentials) -> str:
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": signed.CONTENT_TYPE, "X-Amz-Target": signed.TARGET},
    )
    auth = SigV4Auth(
        BotoCredentials(creds.access_key, creds.secret_key, creds.token), "dynamodb", "eu-west-1"
    )
    request.context["timestamp"] = AT.strftime("%Y%m%dT%H%M%SZ")
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    auth._inject_signature_to_request(request, signature)
    return str(request.headers["Authorization"])


@pytest.mark.parametrize("token", [None, "IQoJb3JpZ2luX2VjEXAMPLEsessiontoken"])
@pytest.mark.parametrize(
    "url", ["https://dynamodb.eu-west-1.amazonaws.com/", "http://127.0.0.1:8000/"]
)
def test_the_signature_is_botocores(token: str | None, url: str) -> None:
    creds = signed.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    body = json.dumps({"TableName": "t", "Item": {"k": signed.attribute("v")}}).encode()
    ours = signed.signed_headers(url, "eu-west-1", body, creds, AT)
    assert ours["authorization"] == botocore_authorization(url, body, creds)


def test_put_item_writes_what_boto3_reads(moto: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = moto.new_prefix()
    create_missing_tables(moto.client(), prefix)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIALS["aws_secret_access_key"])
    item: dict[str, str | int] = {"connection_id": "c-1", "user_id": "fan-1", "expires_at": 42}
    signed.put_item(CONNECTIONS.name(prefix), item, region=REGION, endpoint_url=moto.endpoint)
    found: Any = moto.client().get_item(
        TableName=CONNECTIONS.name(prefix), Key={"connection_id": {"S": "c-1"}}
    )["Item"]
    assert found == {
        "connection_id": {"S": "c-1"},
        "user_id": {"S": "fan-1"},
        "expires_at": {"N": "42"},
    }


def test_a_refusal_says_what_dynamodb_said(moto: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIALS["aws_secret_access_key"])
    with pytest.raises(signed.DynamoDbHttpError) as refused:
        signed.put_item("no-such-table", {"k": "v"}, region=REGION, endpoint_url=moto.endpoint)
    assert refused.value.kind == "ResourceNotFoundException"
