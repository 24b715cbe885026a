"""Open API Gateway WebSocket connections, kept in the ``connections`` table, and pushes to them.

``$connect`` records (connection id -> user, management endpoint) with a TTL a little past API
Gateway's two-hour connection limit, or the sign-in token's expiry if that comes first (after
it, frames on the connection are answered as not signed in), through one signed HTTP
``PutItem`` (``dynamodb_signed``: ``$connect`` never imports boto3, for its cold start);
``$disconnect`` removes it. A reply or a
push goes through the API Gateway Management API (``post_to_connection``); a connection that is
gone (HTTP 410, ``GoneException``) is forgotten. Every frame fits API Gateway's 128 KB message
cap (``reply_size.fit``: an oversized reply goes as ``reply_too_large``); a refusal (413
``PayloadTooLargeException``, or any other failure) is reported as not delivered. Pushing is
best effort: the records are already written, and a page that reconnects reads them. Nothing
connects before the first call.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from couchpay.adapters import dynamodb_rows as rows
from couchpay.adapters import dynamodb_tables as tables
from couchpay.adapters.dynamodb_client import DynamoDbSettings, make_client
from couchpay.ports.identity import Caller
from couchpay.wire import reply_size

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi.client import ApiGatewayManagementApiClient
    from mypy_boto3_dynamodb.client import DynamoDBClient

log = logging.getLogger(__name__)
CONNECTION_TTL_SECONDS = 2 * 3600 + 15 * 60  # API Gateway closes a connection after 2 hours


class AwsConnections:
    """A plain transport (``wire.push.Transport``) over API Gateway's management API."""

    def __init__(
        self,
        settings: DynamoDbSettings,
        *,
        dynamodb: DynamoDBClient | None = None,
        clock: Any = time.time,
    ) -> None:
        self.settings = settings
        self._dynamodb = dynamodb
        self._clock = clock
        self._lock = threading.Lock()
        self._management: dict[str, ApiGatewayManagementApiClient] = {}

    # plumbing ----------------------------------------------------------------------------
    @property
    def table(self) -> str:
        return tables.CONNECTIONS.name(self.settings.prefix)

    @property
    def dynamodb(self) -> DynamoDBClient:
        with self._lock:
            if self._dynamodb is None:
                self._dynamodb = make_client(self.settings)
            return self._dynamodb

    def management(self, endpoint: str) -> ApiGatewayManagementApiClient:
        """A Management API client for one WebSocket API stage (``https://ID.execute-api...``)."""
        with self._lock:
            client = self._management.get(endpoint)
            if client is None:
                from botocore.config import Config as BotoConfig

                from couchpay.adapters import aws_session

                client = aws_session.session().client(
                    "apigatewaymanagementapi",
                    endpoint_url=endpoint,
                    region_name=self.settings.region,
                    config=BotoConfig(
                        retries={"mode": "standard", "max_attempts": 3},
                        connect_timeout=3,
                        read_timeout=5,
                    ),
                )
                self._management[endpoint] = client
            return client

    # the registry ------------------------------------------------------------------------
    def add(
        self,
        connection_id: str,
        user_id: str,
        endpoint: str,
        until: float | None = None,
        email: str | None = None,
    ) -> None:
        """``until``: when the sign-in token expires; the record (hence the connection's
        identity) ends then, if that is before API Gateway's own limit. ``email``: the
        token's, for receipts."""
        now = int(self._clock())
        expires_at = now + CONNECTION_TTL_SECONDS
        item: dict[str, str | int] = {
            "connection_id": connection_id,
            "user_id": user_id,
            "endpoint": endpoint,
            "connected_at": now,
            "expires_at": expires_at if until is None else min(expires_at, int(until)),
        }
        if email is not None:
            item["email"] = email  # from the verified token: the receipt email
        if self._dynamodb is not None:  # a client was given: it makes every call
            self._dynamodb.put_item(TableName=self.table, Item=rows.wire(item))
            return
        from couchpay.adapters import dynamodb_signed

        dynamodb_signed.put_item(
            self.table, item, region=self._region(), endpoint_url=self.settings.endpoint_url
        )

    def _region(self) -> str:
        return (
            self.settings.region
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1"
        )

    def remove(self, connection_id: str) -> None:
        self.dynamodb.delete_item(
            TableName=self.table, Key=rows.wire({"connection_id": connection_id})
        )

    def user_of(self, connection_id: str) -> str | None:
        """The user signed in on this connection, or None (unknown, or past its TTL)."""
        caller = self.caller_of(connection_id)
        return caller.user_id if caller else None

    def caller_of(self, connection_id: str) -> Caller | None:
        """Who signed in on this connection (user and email), or None."""
        found = self.dynamodb.get_item(
            TableName=self.table,
            Key=rows.wire({"connection_id": connection_id}),
            ConsistentRead=True,
        ).get("Item")
        if not found:
            return None
        item = rows.unwire(found)
        if int(item.get("expires_at", 0)) <= self._clock():
            return None
        user_id, email = item.get("user_id"), item.get("email")
        if not isinstance(user_id, str):
            return None
        return Caller(user_id, email if isinstance(email, str) else None)

    def count_of(self, user_id: str) -> int:
        """How many connections the user has open (``$connect``: without boto3, like ``add``)."""
        if self._dynamodb is not None:
            return len(self.connections_of(user_id))
        from couchpay.adapters import dynamodb_signed

        return dynamodb_signed.count(
            self.table,
            "by_user",
            "user_id",
            user_id,
            region=self._region(),
            endpoint_url=self.settings.endpoint_url,
        )

    def connections_of(self, user_id: str) -> list[tuple[str, str]]:
        """(connection id, endpoint) of each open connection of the user."""
        found: list[tuple[str, str]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "by_user",
            "KeyConditionExpression": "user_id = :u",
            "ExpressionAttributeValues": rows.wire({":u": user_id}),
        }
        while True:
            page = self.dynamodb.query(**kwargs)
            for raw in page.get("Items", []):
                item = rows.unwire(dict(raw))
                found.append((str(item["connection_id"]), str(item.get("endpoint", ""))))
            if not page.get("LastEvaluatedKey"):
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # pushing -----------------------------------------------------------------------------
    def post(self, endpoint: str, connection_id: str, reply: dict[str, Any]) -> bool:
        """Send one frame; True only if API Gateway took it. A gone connection (410) is dropped;
        any other refusal (413 too large, throttled, ...) keeps it."""
        from botocore.exceptions import BotoCoreError, ClientError

        data = reply_size.fit(reply).encode()
        try:
            self.management(endpoint).post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "GoneException" or status == 410:
                log.info("connection %s is gone; dropping it", connection_id)
                self._forget(connection_id)
                return False
            log.error("post to connection %s refused: %s (%s)", connection_id, code, status)
            return False
        except BotoCoreError as exc:
            log.error("post to connection %s failed: %s", connection_id, exc)
            return False
        return True

    def close(self, endpoint: str, connection_id: str) -> None:
        """End the connection at API Gateway (its ``$disconnect`` then runs) and forget it.
        Never raises: a connection that is already gone is what was wanted."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.management(endpoint).delete_connection(ConnectionId=connection_id)
        except (BotoCoreError, ClientError) as exc:
            log.info("closing connection %s: %s", connection_id, exc)
        self._forget(connection_id)

    def _forget(self, connection_id: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.remove(connection_id)
        except (BotoCoreError, ClientError) as exc:  # TTL removes it later anyway
            log.warning("could not drop connection %s: %s", connection_id, exc)

    def notify(self, user_id: str, reply: dict[str, Any]) -> None:
        """Push ``reply`` to every open connection of the user; never raises."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            targets = self.connections_of(user_id)
        except (BotoCoreError, ClientError) as exc:
            log.warning("cannot list connections of a user: %s", exc)
            return
        for connection_id, endpoint in targets:
            if endpoint:
                self.post(endpoint, connection_id, reply)
