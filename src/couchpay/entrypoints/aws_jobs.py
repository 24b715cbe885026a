"""Scheduled Lambda jobs (wired to a schedule in serverless.yml).

``expire_cards`` is ``couchpay cards expire`` on AWS: once a day it marks live cards past their
expiry month ``expired``. Idempotent, so a retried or doubled invocation changes nothing more.
Services are built on the first invocation (never at import) and kept for warm invocations."""

from __future__ import annotations

import logging
from typing import Any

from couchpay.service.context import Services

log = logging.getLogger(__name__)
_services: Services | None = None


def _get_services() -> Services:
    global _services  # noqa: PLW0603 - one per Lambda container, built lazily
    if _services is None:
        from couchpay.bootstrap import open_for_operator
        from couchpay.config import Config

        _services = open_for_operator(Config.from_env(), needs_stripe=False)
    return _services


def expire_cards(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    """The daily card expiry job. Returns its summary (checked, expired, stillLive, month)."""
    from couchpay.service.card_lifecycle import expire_cards as run

    summary = run(_get_services())
    log.info("%s", summary.line())
    return summary.as_dict()
