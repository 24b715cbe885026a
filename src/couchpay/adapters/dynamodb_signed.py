"""One DynamoDB ``PutItem`` as a SigV4-signed HTTPS request on the standard library alone.

Why not boto3: this is what ``$connect`` writes (the connection record), and importing boto3
plus building a client is ~0.65x of the whole cold-start budget of the SDK floor
(BENCHMARKS.md); every fan at showtime opens a socket, so ``$connect`` must start fast. Every
other DynamoDB call of couchpay goes through boto3 (``dynamodb_store``, ``aws_connections``).
The signing is AWS Signature Version 4 exactly as documented (and as botocore computes it:
tests/aws/test_dynamodb_signed.py compares the two byte for byte).

Credentials: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``, which
Lambda sets for the function's role; without them, boto3's credential chain (a profile, ...).
Endpoint: the settings' ``endpoint``, else ``AWS_ENDPOINT_URL_DYNAMODB`` / ``AWS_ENDPOINT_URL``
(DynamoDB Local, moto), else ``https://dynamodb.{region}.amazonaws.com``. Throttling, 5xx and
network errors are retried (3 tries, short backoff); any other refusal raises
``DynamoDbHttpError`` with DynamoDB's error type.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

SERVICE = "dynamodb"
TARGET = "DynamoDB_20120810.PutItem"
QUERY_TARGET = "DynamoDB_20120810.Query"
CONTENT_TYPE = "application/x-amz-json-1.0"
RETRYABLE = ("ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError")
ATTEMPTS = 3
TIMEOUT_SECONDS = 3.0


class DynamoDbHttpError(RuntimeError):
    """DynamoDB refused the request; ``kind`` is its ``__type`` (without the namespace)."""

    def __init__(self, kind: str, status: int) -> None:
        super().__init__(f"DynamoDB PutItem refused: {kind} (HTTP {status})")
        self.kind = kind
        self.status = status


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None

    @classmethod
    def find(cls) -> Credentials:
        key = os.environ.get("AWS_ACCESS_KEY_ID") or ""
        secret = os.environ.get("AWS_SECRET_ACCESS_KEY") or ""
        if key and secret:
            return cls(key, secret, os.environ.get("AWS_SESSION_TOKEN") or None)
        from couchpay.adapters import aws_session  # not on Lambda: a profile, SSO, ...

        found = aws_session.session().get_credentials()
        if found is None:
            raise DynamoDbHttpError("NoCredentials", 0)
        frozen = found.get_frozen_credentials()
        return cls(str(frozen.access_key), str(frozen.secret_key), frozen.token or None)


def attribute(value: str | int) -> dict[str, str]:
    """A DynamoDB attribute value for a string or an integer (all a connection record holds)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"only str and int attributes: {value!r}")
    return {"S": value} if isinstance(value, str) else {"N": str(value)}


def endpoint_for(region: str, endpoint_url: str | None) -> str:
    found = (
        endpoint_url
        or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
        or os.environ.get("AWS_ENDPOINT_URL")
        or f"https://dynamodb.{region}.amazonaws.com"
    )
    return found.rstrip("/") + "/"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signed_headers(
    url: str,
    region: str,
    body: bytes,
    credentials: Credentials,
    now: datetime,
    target: str = TARGET,
) -> dict[str, str]:
    """The headers of a signed POST of ``body`` to ``url`` (SigV4, service dynamodb)."""
    parts = urlsplit(url)
    amz_date = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    headers = {
        "content-type": CONTENT_TYPE,
        "host": parts.netloc,
        "x-amz-date": amz_date,
        "x-amz-target": target,
    }
    if credentials.token:
        headers["x-amz-security-token"] = credentials.token
    names = sorted(headers)
    canonical = "\n".join(
        [
            "POST",
            parts.path or "/",
            "",  # no query string
            "".join(f"{name}:{headers[name].strip()}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/{SERVICE}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(
        _hmac(_hmac(_hmac(f"AWS4{credentials.secret_key}".encode(), day), region), SERVICE),
        "aws4_request",
    )
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return headers


def put_item(
    table: str,
    item: dict[str, str | int],
    *,
    region: str,
    endpoint_url: str | None = None,
    credentials: Credentials | None = None,
) -> None:
    """Write ``item`` to ``table`` (unconditionally, as boto3's ``put_item`` without options)."""
    payload = {"TableName": table, "Item": {k: attribute(v) for k, v in item.items()}}
    _call(TARGET, payload, region, endpoint_url, credentials)


def count(
    table: str,
    index: str,
    key: str,
    value: str,
    *,
    region: str,
    endpoint_url: str | None = None,
    credentials: Credentials | None = None,
) -> int:
    """How many items of ``index`` have ``key`` = ``value`` (a Query with Select COUNT, every
    page: as boto3's ``query`` would, one call a page)."""
    payload: dict[str, Any] = {
        "TableName": table,
        "IndexName": index,
        "KeyConditionExpression": "#k = :v",
        "ExpressionAttributeNames": {"#k": key},
        "ExpressionAttributeValues": {":v": attribute(value)},
        "Select": "COUNT",
    }
    total = 0
    while True:
        page = _call(QUERY_TARGET, payload, region, endpoint_url, credentials)
        total += int(page.get("Count", 0))
        if not page.get("LastEvaluatedKey"):
            return total
        payload["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _call(
    target: str,
    payload: dict[str, Any],
    region: str,
    endpoint_url: str | None,
    credentials: Credentials | None,
) -> dict[str, Any]:
    url = endpoint_for(region, endpoint_url)
    body = json.dumps(payload).encode()
    creds = credentials or Credentials.find()
    for attempt in range(1, ATTEMPTS + 1):
        headers = signed_headers(url, region, body, creds, datetime.now(UTC), target)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - an https (or local test) endpoint we chose
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read() or b"{}")
                return answer
        except urllib.error.HTTPError as exc:
            kind = _error_type(exc.read())
            if attempt == ATTEMPTS or not (exc.code >= 500 or kind in RETRYABLE):
                raise DynamoDbHttpError(kind, exc.code) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt == ATTEMPTS:
                raise DynamoDbHttpError(type(exc).__name__, 0) from exc
        time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _error_type(body: bytes) -> str:
    try:
        found: Any = json.loads(body).get("__type", "")
    except (ValueError, AttributeError):
        return "Unknown"
    return str(found).rsplit("#", 1)[-1] or "Unknown"
