"""The outbox on DynamoDB: the ``events`` table, keyed (subject, sequence_key).

An event is a conditional Put (``attribute_not_exists(subject)``: its place in the subject's
order is free) inside the same TransactWriteItems as the change it reports; a taken place cancels
the whole transaction and becomes the port's ``OutboxConflict``. A subject's events are read
from the base table, consistently, in order. Indexes serve what tolerates lag: ``by_id``
(operators' look-ups), ``pending`` (sparse: only undelivered events, in the order they are
due, ``due_key``; the deliverer re-reads each subject before sending) and ``by_day``
(``events list --since``). The table's stream (new images) drives delivery on AWS. Nothing
scans; nothing is deleted.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from couchpay.adapters import dynamodb_rows as rows
from couchpay.adapters import dynamodb_tables as tables
from couchpay.adapters.dynamodb_client import DynamoDbTables
from couchpay.domain.events import OutboxEvent
from couchpay.ports.outbox import OutboxStore
from couchpay.ports.records import to_plain
from couchpay.ports.stored_keys import dt_out

PENDING = "pending"
DELIVERY_FIELDS = ("pending", "delivered", "attempts", "next_attempt_at", "last_error", "version")
CONFLICT = "ConditionalCheckFailed"


def sequence_key(sequence: int) -> str:
    return f"{sequence:010d}"


def event_item(event: OutboxEvent) -> rows.Item:
    return {
        k: v
        for k, v in {
            **to_plain(event),
            "sequence_key": sequence_key(event.sequence),
            "created_key": f"{dt_out(event.created_at)}#{event.subject}#{event.sequence:010d}",
            "day": dt_out(event.created_at)[:10],
            "pending_shard": PENDING if event.pending else None,
            "due_key": _due_key(event),
        }.items()
        if v is not None
    }


def _due_key(event: OutboxEvent) -> str:
    due = event.next_attempt_at or event.created_at
    return f"{dt_out(due)}#{event.subject}#{event.sequence:010d}"


def event_conflict(reasons: list[str], first: int, count: int) -> bool:
    """True when one of the ``count`` event puts starting at ``first`` lost its place."""
    return CONFLICT in reasons[first : first + count]


class DynamoDbOutbox(DynamoDbTables, OutboxStore):
    def _event_puts(self, events: list[OutboxEvent]) -> list[dict[str, Any]]:
        return [
            self._put_op(tables.EVENTS, event_item(e), "attribute_not_exists(subject)")
            for e in events
        ]

    def _event_record(self, item: rows.Item) -> OutboxEvent:
        return rows.record(OutboxEvent, item)

    def outbox_event(self, event_id: str) -> OutboxEvent | None:
        keys = self._query(
            TableName=self.name(tables.EVENTS),
            IndexName="by_id",
            KeyConditionExpression="event_id = :e",
            ExpressionAttributeValues=rows.wire({":e": event_id}),
        )
        found = [
            self._get(tables.EVENTS, {"subject": k["subject"], "sequence_key": k["sequence_key"]})
            for k in keys
        ]
        events = sorted(
            (self._event_record(i) for i in found if i is not None), key=lambda e: e.created_at
        )
        return events[0] if events else None

    def outbox_subject(self, subject: str) -> list[OutboxEvent]:
        found = self._query(
            TableName=self.name(tables.EVENTS),
            KeyConditionExpression="subject = :s",
            ExpressionAttributeValues=rows.wire({":s": subject}),
            ConsistentRead=True,
        )
        return [self._event_record(i) for i in found]

    def outbox_pending(self, limit: int, due_by: datetime | None = None) -> list[OutboxEvent]:
        condition, values = "pending_shard = :p", {":p": PENDING}
        if due_by is not None:  # "<= due_by": every key of that instant sorts below "#~"
            condition += " AND due_key <= :due"
            values[":due"] = f"{dt_out(due_by)}#~"
        found = self._query(
            TableName=self.name(tables.EVENTS),
            IndexName="pending",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=rows.wire(values),
            Limit=max(limit, 1),
        )
        return [self._event_record(i) for i in itertools.islice(found, limit)]

    def outbox_since(self, since: datetime, limit: int) -> list[OutboxEvent]:
        start = dt_out(since)
        day = since.astimezone(UTC).date()
        last = datetime.now(UTC).date() + timedelta(days=1)
        events: list[OutboxEvent] = []
        while day <= last and len(events) < limit:
            found = self._query(
                TableName=self.name(tables.EVENTS),
                IndexName="by_day",
                KeyConditionExpression="#day = :d AND created_key >= :c",
                ExpressionAttributeNames={"#day": "day"},
                ExpressionAttributeValues=rows.wire({":d": day.isoformat(), ":c": start}),
            )
            events += (self._event_record(i) for i in itertools.islice(found, limit - len(events)))
            day += timedelta(days=1)
        return events

    def _outbox_last_sequence(self, subject: str) -> int:
        found = self._query(
            TableName=self.name(tables.EVENTS),
            KeyConditionExpression="subject = :s",
            ExpressionAttributeValues=rows.wire({":s": subject}),
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
            ProjectionExpression="#seq",
            ExpressionAttributeNames={"#seq": "sequence"},
        )
        newest = next(found, None)
        return int(newest["sequence"]) if newest is not None else 0

    def _outbox_update(self, event: OutboxEvent, expected_version: int) -> bool:
        plain = event_item(event)
        fields = [*DELIVERY_FIELDS, "pending_shard", "due_key"]
        sets = [k for k in fields if k in plain]
        removes = [k for k in fields if k not in plain]
        update = "SET " + ", ".join(f"#{k} = :{k}" for k in sets)
        if removes:
            update += " REMOVE " + ", ".join(f"#{k}" for k in removes)
        values = {f":{k}": plain[k] for k in sets}
        values[":expected"] = expected_version
        op = self._update_op(
            tables.EVENTS,
            {"subject": event.subject, "sequence_key": sequence_key(event.sequence)},
            update,
            values,
            "attribute_exists(subject) AND #version = :expected",
            {f"#{k}": k for k in fields},
        )
        return self._conditional("update_item", **op["Update"]) is not None
