"""Open API Gateway WebSocket connections, kept in the ``connections`` table, and pushes to them.

``$connect`` records (connection id -> user, management endpoint) with a TTL a little past API
Gateway's two-hour connection limit; ``$disconnect`` removes it. A reply or a push goes through
the API Gateway Management API (``post_to_connection``); a connection that is gone (HTTP 410,
``GoneException``) is forgotten. Pushing is best effort: the records are already written, and a
page that reconnects reads them. Nothing connects before the first call.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from couchpay.adapters import dynamodb_rows as rows
from couchpay.adapters import dynamodb_tables as tables
from couchpay.adapters.dynamodb_store import DynamoDbSettings, make_client
from couchpay.ports.identity import Caller
from couchpay.ports.notifier import Notifier

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi.client import ApiGatewayManagementApiClient
    from mypy_boto3_dynamodb.client import DynamoDBClient

log = logging.getLogger(__name__)
CONNECTION_TTL_SECONDS = 2 * 3600 + 15 * 60  # API Gateway closes a connection after 2 hours


class AwsConnections(Notifier):
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
        self, connection_id: str, user_id: str, endpoint: str, email: str | None = None
    ) -> None:
        now = int(self._clock())
        item: dict[str, Any] = {
            "connection_id": connection_id,
            "user_id": user_id,
            "endpoint": endpoint,
            "connected_at": now,
            "expires_at": now + CONNECTION_TTL_SECONDS,
        }
        if email is not None:
            item["email"] = email  # from the verified token: the receipt email
        self.dynamodb.put_item(TableName=self.table, Item=rows.wire(item))

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
        """Send one frame. False when the connection is gone (its record is then dropped)."""
        from botocore.exceptions import BotoCoreError, ClientError

        data = json.dumps(reply, separators=(",", ":")).encode()
        try:
            self.management(endpoint).post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "GoneException" or status == 410:
                log.info("connection %s is gone; dropping it", connection_id)
                self._forget(connection_id)
                return False
            log.warning("post to connection %s failed: %s", connection_id, code)
            return True  # not known to be gone: keep it
        except BotoCoreError as exc:
            log.warning("post to connection %s failed: %s", connection_id, exc)
            return True
        return True

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
