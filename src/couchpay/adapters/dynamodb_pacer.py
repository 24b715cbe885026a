"""The Pacer port on DynamoDB: each key is one item of the ``guards`` table, ``pace#<key>``,
holding ``value`` (a whole number). ``swap`` is one conditional ``UpdateItem``
(``attribute_not_exists(value)`` or ``value = :expected``); when the condition fails, DynamoDB
hands back the item as it is now (``ReturnValuesOnConditionCheckFailure=ALL_OLD``), so a Lambda
that lost the race computes again without another read (a consistent ``GetItem`` when the
service does not send the old item back). Atomic across every Lambda instance: DynamoDB applies
conditional writes to one item one at a time. The item has no TTL: it is one small item per key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from couchpay.adapters import dynamodb_rows as rows
from couchpay.adapters import dynamodb_tables as tables
from couchpay.adapters.dynamodb_client import CONDITION_FAILED, DynamoDbStoreError, _code
from couchpay.ports.pacing import Pacer

if TYPE_CHECKING:
    from couchpay.adapters.dynamodb_client import DynamoDbTables


def _key(key: str) -> dict[str, Any]:
    return rows.wire({"guard": f"pace#{key}"})


class DynamoDbPacer(Pacer):
    def __init__(self, tables_: DynamoDbTables) -> None:
        self._db = tables_

    def read(self, key: str) -> int | None:
        item = self._db._get(tables.GUARDS, {"guard": f"pace#{key}"})
        return None if item is None or item.get("value") is None else int(item["value"])

    def swap(self, key: str, expected: int | None, new: int) -> tuple[bool, int | None]:
        from botocore.exceptions import ClientError

        values: dict[str, Any] = {":new": new}
        if expected is None:
            condition = "attribute_not_exists(#v)"
        else:
            condition = "#v = :expected"
            values[":expected"] = expected
        try:
            self._db._call(
                "update_item",
                TableName=self._db.name(tables.GUARDS),
                Key=_key(key),
                UpdateExpression="SET #v = :new",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#v": "value"},
                ExpressionAttributeValues=rows.wire(values),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _code(exc) != CONDITION_FAILED:
                raise DynamoDbStoreError(f"DynamoDB update_item failed: {_code(exc)}") from exc
            old: Any = exc.response.get("Item")
            if not isinstance(old, dict):
                return False, self.read(key)
            value = rows.unwire(old).get("value")
            return False, None if value is None else int(value)
        return True, new
