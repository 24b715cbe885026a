"""The DynamoDB half of the store's operator queries (``ports.purchase_queries``), with no scan:

* by user: the ``by_user`` index (user_id, created_key; all attributes), a status filter applied
  by DynamoDB to that one user's history;
* by status: the ``by_status`` index (status, created_key; keys only), then a strongly
  consistent BatchGetItem of the records, each re-checked (an index lags its table);
* no filter: the ``by_status`` partitions merged newest first (one Query per purchase status,
  each read only as far as the page needs), de-duplicated, read the same way.

Why one keys-only index on status rather than a second "all purchases" index: CloudFormation adds
at most one GSI to a table per stack update, and a status key is a natural shard of "all
purchases". Keys only, the index is written when a purchase is claimed and when its status
changes (a delete and a put of a ~100-byte key item), never on other updates, so even its
busiest partition ("succeeded", the newest end of it) takes a few writes per purchase, bounded by
the rate Stripe lets purchases through (25/s), far below a partition's 1,000 writes a second. A
fixed "all" partition would take the same writes; day buckets would spread them but make paging
back through quiet days cost a query per day.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from couchpay.adapters import dynamodb_rows as rows
from couchpay.adapters import dynamodb_tables as tables
from couchpay.adapters.dynamodb_client import DynamoDbTables
from couchpay.domain.errors import NotFound
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.purchase_queries import PERSONAL_FIELDS, PurchaseFilter
from couchpay.ports.records import to_plain

STATUS_INDEX = "by_status"
DISPUTED_INDEX = "disputed"


class DynamoDbPurchaseQueries(DynamoDbTables):
    def _find_newest_first(
        self, where: PurchaseFilter, before: tuple[str, str] | None, count: int
    ) -> list[Purchase]:
        upper = f"{before[0]}#{before[1]}" if before is not None else None
        if where.user_id is not None:
            found = self._newest(
                "by_user", "user_id", where.user_id, upper, where, count, with_status=True
            )
            records = (rows.record(Purchase, item) for item in found)
            return list(itertools.islice((p for p in records if where.matches(p)), count))
        if where.disputed:  # the sparse index of disputed purchases: one small partition
            keys = self._newest(
                DISPUTED_INDEX, "disputed_key", rows.DISPUTED_PARTITION, upper, where, count
            )
            return self._fresh(keys, where, count)
        statuses = [where.status] if where.status is not None else list(PurchaseStatus)
        keyed = [
            self._newest(STATUS_INDEX, "status", s.value, upper, where, count) for s in statuses
        ]
        merged = heapq.merge(*keyed, key=lambda k: str(k["created_key"]), reverse=True)
        return self._fresh(_unique(merged), where, count)

    def _newest(
        self,
        index: str,
        hash_name: str,
        hash_value: str,
        upper: str | None,
        where: PurchaseFilter,
        count: int,
        *,
        with_status: bool = False,
    ) -> Iterator[rows.Item]:
        """An index partition newest first, strictly below ``upper``, down to ``where.since``."""
        condition = "#h = :h"
        values: rows.Item = {":h": hash_value}
        names = {"#h": hash_name}
        since = where.since_key
        if upper is not None and since is not None and since > upper:
            return iter(())  # a cursor already past ``since``: nothing left (DynamoDB refuses
            # a BETWEEN whose bounds are the wrong way round)
        if upper is not None and since is not None:  # BETWEEN is inclusive: upper is dropped
            condition += " AND created_key BETWEEN :since AND :upper"
            values.update({":since": since, ":upper": upper})
        elif upper is not None:
            condition += " AND created_key < :upper"
            values[":upper"] = upper
        elif since is not None:
            condition += " AND created_key >= :since"
            values[":since"] = since
        kwargs: dict[str, Any] = {}
        if with_status and where.status is not None:
            kwargs["FilterExpression"] = "#status = :status"
            names["#status"] = "status"
            values[":status"] = where.status.value
        found = self._query(
            TableName=self.name(tables.PURCHASES),
            IndexName=index,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=rows.wire(values),
            ScanIndexForward=False,
            Limit=max(count, 25),
            **kwargs,
        )
        return (k for k in found if k["created_key"] != upper)

    def _fresh(
        self, keys: Iterator[rows.Item], where: PurchaseFilter, count: int
    ) -> list[Purchase]:
        """The records the index keys name, read consistently, still matching, in key order."""
        out: list[Purchase] = []
        while len(out) < count:
            chunk = list(itertools.islice(keys, count - len(out)))
            if not chunk:
                break
            wanted = [{"transaction_id": k["transaction_id"]} for k in chunk]
            read = [rows.record(Purchase, i) for i in self._batch_get(tables.PURCHASES, wanted)]
            by_id = {p.transaction_id: p for p in read}
            for key in chunk:
                p = by_id.get(key["transaction_id"])
                if p is not None and where.matches(p):
                    out.append(p)
        return out

    def _write_personal_fields(self, purchase: Purchase) -> None:
        plain = to_plain(purchase)
        fields = {k: plain[k] for k in PERSONAL_FIELDS}
        sets = [k for k, v in fields.items() if v is not None]
        removes = [k for k, v in fields.items() if v is None]
        update = "SET " + ", ".join(f"#{k} = :{k}" for k in sets) if sets else ""
        if removes:
            update += " REMOVE " + ", ".join(f"#{k}" for k in removes)
        kwargs: dict[str, Any] = {}
        if sets:
            kwargs["ExpressionAttributeValues"] = rows.wire({f":{k}": fields[k] for k in sets})
        done = self._conditional(
            "update_item",
            TableName=self.name(tables.PURCHASES),
            Key=rows.wire({"transaction_id": purchase.transaction_id}),
            UpdateExpression=update.strip(),
            ConditionExpression="attribute_exists(transaction_id)",
            ExpressionAttributeNames={f"#{k}": k for k in fields},
            **kwargs,
        )
        if done is None:
            raise NotFound(f"no purchase {purchase.transaction_id}")

    def clear_stripe_customer(self, user_id: str, customer_id: str) -> None:
        self._conditional(
            "update_item",
            TableName=self.name(tables.USERS),
            Key=rows.wire({"user_id": user_id}),
            UpdateExpression="REMOVE stripe_customer_id",
            ConditionExpression="stripe_customer_id = :c",
            ExpressionAttributeValues=rows.wire({":c": customer_id}),
        )


def _unique(keys: Iterable[rows.Item]) -> Iterator[rows.Item]:
    """Each transaction once: a purchase whose status changed between two partitions' reads
    may be named by both."""
    seen: set[str] = set()
    for key in keys:
        if key["transaction_id"] not in seen:
            seen.add(key["transaction_id"])
            yield key
