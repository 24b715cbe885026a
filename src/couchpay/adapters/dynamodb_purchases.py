"""The purchases half of the DynamoDB store (see ``dynamodb_store``): a claim is one transaction
of the ``(user, requestId)`` claim, the record and the limited items' held units (each
conditional); settling is a compare-and-set on the status, with the units it releases or takes
back in the same transaction; history pages come from the ``by_user`` index."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from couchpay.adapters import dynamodb_rows as rows
from couchpay.adapters import dynamodb_tables as tables
from couchpay.adapters.dynamodb_client import DynamoDbStoreError, _reasons
from couchpay.adapters.dynamodb_outbox import DynamoDbOutbox, event_conflict
from couchpay.adapters.dynamodb_purchase_queries import DynamoDbPurchaseQueries
from couchpay.domain.errors import SoldOut
from couchpay.domain.events import OutboxEvent
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports import stored_keys as stored
from couchpay.ports.outbox import OutboxConflict

_P = PurchaseStatus


class DynamoDbPurchases(DynamoDbPurchaseQueries, DynamoDbOutbox):
    # purchases -----------------------------------------------------------------------------
    def _insert_purchase(
        self, purchase: Purchase, holds: dict[str, int], capacities: dict[str, int]
    ) -> bool:
        from botocore.exceptions import ClientError

        claim = {k: getattr(purchase, k) for k in ("user_id", "request_id", "transaction_id")}
        items: list[Any] = [
            self._put_op(tables.PURCHASE_REQUESTS, claim, "attribute_not_exists(user_id)"),
            self._put_op(
                tables.PURCHASES,
                rows.purchase_item(purchase),
                "attribute_not_exists(transaction_id)",
            ),
        ]
        items += [
            self._update_op(
                tables.CATALOG,
                rows.holds_key(item_id),
                "ADD held :q",
                {":q": qty, ":max": capacities[item_id] - qty},
                "attribute_not_exists(held) OR held <= :max",
            )
            for item_id, qty in sorted(holds.items())
        ]
        try:
            self._transact(items)
        except ClientError as exc:
            reasons = _reasons(exc)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            if "ConditionalCheckFailed" in reasons[2:]:
                raise SoldOut() from exc
            raise DynamoDbStoreError(f"claim_purchase failed: {reasons}") from exc
        return True

    def held_units(self) -> dict[str, int]:
        found = self._query(
            TableName=self.name(tables.CATALOG),
            KeyConditionExpression="#catalog = :c",
            ExpressionAttributeNames={"#catalog": "catalog"},
            ExpressionAttributeValues=rows.wire({":c": rows.HOLDS_PARTITION}),
            ConsistentRead=True,
        )
        return {item["item_id"]: int(item.get("held", 0)) for item in found}

    def get_purchase(self, transaction_id: str) -> Purchase | None:
        item = self._get(tables.PURCHASES, {"transaction_id": transaction_id})
        return rows.record(Purchase, item) if item is not None else None

    def get_purchase_by_request(self, user_id: str, request_id: str) -> Purchase | None:
        claim = self._get(tables.PURCHASE_REQUESTS, {"user_id": user_id, "request_id": request_id})
        return self.get_purchase(claim["transaction_id"]) if claim is not None else None

    def get_purchase_by_intent(self, payment_intent_id: str) -> Purchase | None:
        keys = self._query(
            TableName=self.name(tables.PURCHASES),
            IndexName="by_intent",
            KeyConditionExpression="payment_intent_id = :p",
            ExpressionAttributeValues=rows.wire({":p": payment_intent_id}),
        )
        for key in keys:
            purchase = self.get_purchase(key["transaction_id"])
            if purchase is not None and purchase.payment_intent_id == payment_intent_id:
                return purchase
        return None

    def list_unsettled_purchases(self, updated_before: datetime, limit: int) -> list[Purchase]:
        before = stored.dt_out(updated_before)
        keys: list[rows.Item] = []
        for status in (_P.QUEUED, _P.PENDING, _P.REQUIRES_ACTION):
            found = self._query(
                TableName=self.name(tables.PURCHASES),
                IndexName="unsettled",
                KeyConditionExpression="unsettled_status = :s AND updated_key < :before",
                ExpressionAttributeValues=rows.wire({":s": status.value, ":before": before}),
                Limit=max(limit, 1),
            )
            keys += itertools.islice(found, limit)
        keys.sort(key=lambda k: str(k["updated_key"]))
        wanted = [{"transaction_id": k["transaction_id"]} for k in keys[:limit]]
        fresh = [rows.record(Purchase, i) for i in self._batch_get(tables.PURCHASES, wanted)]
        still = [
            p for p in fresh if not p.status.settled and stored.dt_out(p.updated_at) < before
        ]  # the index lags the table: trust only the consistent read
        return sorted(still, key=lambda p: (p.updated_at, p.transaction_id))

    def _settle(
        self,
        purchase: Purchase,
        expected: PurchaseStatus,
        deltas: dict[str, int],
        events: list[OutboxEvent],
        read_at: datetime | None,
    ) -> bool:
        """The purchase's compare-and-set, its held units and its events: one transaction."""
        from botocore.exceptions import ClientError

        fields = rows.settled_fields(purchase)
        sets = [k for k, v in fields.items() if v is not None]
        removes = [k for k, v in fields.items() if v is None]
        update = "SET " + ", ".join(f"#{k} = :{k}" for k in sets)
        if removes:
            update += " REMOVE " + ", ".join(f"#{k}" for k in removes)
        values = {f":{k}": fields[k] for k in sets}
        values[":expected"] = PurchaseStatus(expected).value
        condition = "attribute_exists(transaction_id) AND #status = :expected"
        if read_at is not None:
            condition += " AND #updated_at = :read_at"
            values[":read_at"] = stored.dt_out(read_at)
        op = self._update_op(
            tables.PURCHASES,
            {"transaction_id": purchase.transaction_id},
            update,
            values,
            condition,
            {f"#{k}": k for k in fields},
        )
        if not deltas and not events:
            return self._conditional("update_item", **op["Update"]) is not None
        holds = [
            self._update_op(tables.CATALOG, rows.holds_key(i), "ADD held :d", {":d": d})
            for i, d in sorted(deltas.items())
        ]
        try:
            self._transact([op, *holds, *self._event_puts(events)])
        except ClientError as exc:
            if _reasons(exc)[:1] == ["ConditionalCheckFailed"]:
                return False
            if event_conflict(_reasons(exc), 1 + len(holds), len(events)):
                raise OutboxConflict(purchase.transaction_id) from exc
            raise DynamoDbStoreError(f"settle_purchase failed: {_reasons(exc)}") from exc
        return True

    def _purchases_newest_first(
        self, user_id: str, before: tuple[str, str] | None, count: int
    ) -> list[Purchase]:
        condition = "user_id = :u"
        values: rows.Item = {":u": user_id}
        if before is not None:
            created_at, transaction_id = before
            condition += " AND created_key < :after"
            values[":after"] = f"{created_at}#{transaction_id}"
        found = self._query(
            TableName=self.name(tables.PURCHASES),
            IndexName="by_user",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=rows.wire(values),
            ScanIndexForward=False,
            Limit=count,
        )
        return [rows.record(Purchase, item) for item in itertools.islice(found, count)]
