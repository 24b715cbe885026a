"""Local DynamoDB servers for the tests, on 127.0.0.1 only: moto, and Amazon's DynamoDB Local."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from couchpay.adapters.dynamodb_store import DynamoDbSettings, DynamoDbStore, create_missing_tables
from couchpay.adapters.dynamodb_tables import TABLES

REGION = "us-east-1"
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REPO = Path(__file__).resolve().parents[2]


class LocalDynamoDb:
    """A DynamoDB endpoint on 127.0.0.1 (subclasses start one)."""

    endpoint: str
    kind: str

    _client: Any = None

    def client(self) -> Any:
        """One client per server, shared (boto3 clients are thread-safe; making one is slow)."""
        import boto3

        if self._client is None:
            self._client = boto3.session.Session().client(
                "dynamodb", region_name=REGION, endpoint_url=self.endpoint, **FAKE_CREDENTIALS
            )
        return self._client

    _prefix: str | None = None

    def new_prefix(self) -> str:
        return f"t{uuid.uuid4().hex[:12]}"

    def fresh_store(self) -> DynamoDbStore:
        """A store on empty tables: made once per server, emptied before each further use
        (creating eight tables with their indexes takes DynamoDB Local about a second)."""
        client = self.client()
        if self._prefix is None:
            self._prefix = self.new_prefix()
            create_missing_tables(client, self._prefix)
        else:
            empty_tables(client, self._prefix)
        return DynamoDbStore(DynamoDbSettings(self._prefix, REGION, self.endpoint), client=client)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        raise NotImplementedError


class Moto(LocalDynamoDb):
    kind = "moto"

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        _host, port = self._server.get_host_and_port()
        self.endpoint = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self._server.stop()

    def put_secure_string(self, name: str, value: str) -> None:
        """A SecureString in moto's SSM Parameter Store (as an operator puts the Stripe secrets:
        README, "Deploy to AWS")."""
        import boto3

        ssm = boto3.session.Session().client(
            "ssm", region_name=REGION, endpoint_url=self.endpoint, **FAKE_CREDENTIALS
        )
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


class DynamoDbLocal(LocalDynamoDb):
    """Amazon's DynamoDB Local in its own network namespace (see tests/aws/dynamodb_local.py)."""

    kind = "dynamodb-local"

    def __init__(self, startup_timeout: float = 90.0) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.aws.dynamodb_local"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        stdout = self._proc.stdout
        assert stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(startup_timeout)  # the helper prints READY <port> once DynamoDB Local answers
        if not line or not line[0].startswith("READY "):
            self.stop()
            raise RuntimeError(f"DynamoDB Local did not start: {line}")
        self.endpoint = f"http://127.0.0.1:{int(line[0].split()[1])}"

    def stop(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)


def empty_tables(client: Any, prefix: str) -> None:
    """Delete every item of the prefix's tables (tests only: this scans)."""
    for table in TABLES:
        names = {f"#k{i}": key for i, key in enumerate(table.key_names)}
        pages = client.get_paginator("scan").paginate(
            TableName=table.name(prefix),
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
            ConsistentRead=True,
        )
        keys = [item for page in pages for item in page.get("Items", [])]
        for start in range(0, len(keys), 25):
            request = {
                table.name(prefix): [
                    {"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]
                ]
            }
            while request:
                request = client.batch_write_item(RequestItems=request).get("UnprocessedItems")
