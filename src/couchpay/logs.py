"""Structured JSON logs, one object per line, with secrets scrubbed from every record.

Whatever a log call is handed, these never reach the output: Stripe secret and restricted keys,
webhook signing secrets, PaymentIntent / SetupIntent client secrets, JWTs (sign-in tokens), and
``token=`` query values. Values are scrubbed one by one before the line is serialized (never the
serialized line, whose escaping a pattern could break), so every line is valid JSON whatever a
value holds. uvicorn's own loggers go through the same formatter (``couchpay serve`` gives
uvicorn no logging configuration of its own)."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

SECRETS = re.compile(
    r"(?:sk|rk)_(?:test|live)_[A-Za-z0-9_]+"
    r"|whsec_[A-Za-z0-9_]+"
    r"|(?:pi|seti)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"
    r"|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    r"|(?<=token=)[^&\s\"']+"
)
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def scrub(text: str) -> str:
    return SECRETS.sub("[redacted]", text)


def scrub_value(value: Any) -> Any:
    """``value`` with every string in it scrubbed (dicts, lists and tuples walked; anything else
    becomes its scrubbed ``str``, as the JSON line would show it)."""
    if isinstance(value, str):
        return scrub(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {scrub(str(k)): scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v) for v in value]
    return scrub(str(value))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(scrub_value(entry), ensure_ascii=False)


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "stripe", "uvicorn.access", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for own in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logging.getLogger(own).handlers[:] = []  # into the root's JSON handler, nowhere else
        logging.getLogger(own).propagate = True
