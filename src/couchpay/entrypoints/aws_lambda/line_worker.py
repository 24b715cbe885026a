"""The shared line's worker (SQS ``LineQueue`` -> Lambda ``lineWorker``): each message is one
purchase whose slot was too far away for the request that admitted it
(``service.shared_sending.work``: wait for the slot, send, push the outcome to the fan's
sockets through the Management API; or hand it on, telling the fan their place).

A batch's messages are worked side by side (a thread each: each waits for its own slot), each
within the invocation's time budget. A message that fails is reported in
``batchItemFailures`` and comes back after the queue's visibility timeout; the others are done.
A message that is not ours is dropped with a log line (retrying it cannot help)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from couchpay import time_budget
from couchpay.entrypoints.aws_lambda import _runtime

log = _runtime.log


def _work(record: dict[str, Any], deadline: float) -> None:
    from couchpay.adapters.sqs_handoff import parse_body
    from couchpay.service import shared_sending

    try:
        transaction_id, slot_at = parse_body(str(record.get("body") or ""))
    except ValueError:
        log.warning("line worker: dropped a message that is not ours (%s)", record.get("messageId"))
        return
    with time_budget.within(deadline - time.monotonic()):
        shared_sending.work(_runtime.runtime().services, transaction_id, slot_at)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = list(event.get("Records") or [])
    failures: list[dict[str, str]] = []
    if not records:
        return {"batchItemFailures": failures}
    try:
        _runtime.runtime()  # a cold start is built before the budget is read
        deadline = time.monotonic() + _runtime.budget_seconds(context)
    except Exception:
        log.exception("line worker: no runtime")
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}
    with ThreadPoolExecutor(max_workers=len(records)) as pool:
        running = [(r, pool.submit(_work, r, deadline)) for r in records]
    for record, done in running:
        error = done.exception()
        if error is not None:
            log.error("line worker: %s failed: %r", record.get("messageId"), error)
            failures.append({"itemIdentifier": str(record.get("messageId"))})
    return {"batchItemFailures": failures}
