"""The shared line's worker (SQS ``LineQueue`` -> Lambda ``lineWorker``): each message is one
purchase whose slot was too far away for the request that admitted it
(``service.shared_sending.work``: wait for the slot, send, push the outcome to the fan's
sockets through the Management API; or hand it on, telling the fan their place).

A batch's messages are worked side by side (a thread each: each waits for its own slot), each
within the invocation's time budget (what Lambda says is left, less a second: the worker answers
no API Gateway). A message that fails is reported in
``batchItemFailures`` and comes back after the queue's visibility timeout; the others are done.
A message that is not ours is dropped with a log line (retrying it cannot help)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from couchpay import time_budget
from couchpay.entrypoints.aws_lambda import _runtime

log = _runtime.log
PUSH_MARGIN_SECONDS = 1.0
DEFAULT_BUDGET_SECONDS = 25.0


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


def budget_seconds(context: Any) -> float:
    """The worker answers no API Gateway: its budget is what Lambda says is left, less a second
    to push the outcomes."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    left = remaining_ms() / 1000 if callable(remaining_ms) else DEFAULT_BUDGET_SECONDS
    return max(0.0, left - PUSH_MARGIN_SECONDS)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An event without records (a warm-up) only builds the runtime."""
    records = list(event.get("Records") or [])
    failures: list[dict[str, str]] = []
    try:
        _runtime.runtime()  # a cold start is built before the budget is read
        deadline = time.monotonic() + budget_seconds(context)
    except Exception:
        log.exception("line worker: no runtime")
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}
    if not records:
        return {"batchItemFailures": failures}
    with ThreadPoolExecutor(max_workers=len(records)) as pool:
        running = [(r, pool.submit(_work, r, deadline)) for r in records]
    for record, done in running:
        error = done.exception()
        if error is not None:
            log.error("line worker: %s failed: %r", record.get("messageId"), error)
            failures.append({"itemIdentifier": str(record.get("messageId"))})
    return {"batchItemFailures": failures}
