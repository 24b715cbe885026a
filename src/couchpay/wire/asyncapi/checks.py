"""The document's own checks: every action is described, every code is explained, and every
example is valid against the models the server validates with (so the docs never show a lie)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from couchpay.wire import replies as reply_models
from couchpay.wire.asyncapi.content import (
    ACTIONS,
    CODES,
    ERROR_EXAMPLES,
    REQUEST_ID,
    UNAUTHORIZED_EXAMPLE,
    Example,
)
from couchpay.wire.protocol import ERROR_ACTION
from couchpay.wire.routes import ROUTES


def _envelope(action: str, message: dict[str, Any], request_id: str | None) -> dict[str, Any]:
    return {"action": action, "message": message, "requestId": request_id}


def reply_examples() -> dict[str, list[Example]]:
    """Every example reply message, by reply action."""
    out: dict[str, list[Example]] = {}
    for action, doc in ACTIONS.items():
        for reply_action, examples in doc.success.items():
            out.setdefault(reply_action, []).extend(examples)
        failure = ROUTES[action].failure
        out.setdefault(failure, []).extend(doc.failure_examples)
    for action in ACTIONS:
        failure = ROUTES[action].failure
        if not out[failure]:
            out[failure].append(Example("unauthorized", UNAUTHORIZED_EXAMPLE))
    out[ERROR_ACTION] = list(ERROR_EXAMPLES)
    return out


def check_examples() -> None:
    """Every example must be valid against the models (so the docs never show a lie)."""
    for action, doc in ACTIONS.items():
        for ex in doc.request:
            ROUTES[action].model.model_validate_json(json.dumps(ex.message))
    for reply_action, examples in reply_examples().items():
        for ex in examples:
            frame = json.dumps(_envelope(reply_action, ex.message, REQUEST_ID))
            validate_reply(frame)


def _check_coverage() -> None:
    if set(ACTIONS) != set(ROUTES):
        differ = sorted(set(ACTIONS) ^ set(ROUTES))
        raise RuntimeError(f"asyncapi.ACTIONS must describe exactly the routes: {differ}")
    for action, doc in ACTIONS.items():
        unknown = [code for code, _ in doc.failures if code not in CODES]
        if unknown:
            raise RuntimeError(f"{action}: add {unknown} to asyncapi.CODES")
        if tuple(doc.success) != reply_models.SUCCESS_REPLIES[action]:
            raise RuntimeError(f"{action}: documented replies differ from SUCCESS_REPLIES")


def validate_reply(envelope_json: str | bytes) -> BaseModel:
    """Check one reply frame, as sent on the wire, against its model; raise if it drifted."""
    envelope = json.loads(envelope_json)
    if not isinstance(envelope, dict) or set(envelope) != {"action", "message", "requestId"}:
        raise ValueError(f"a reply is {{action, message, requestId}}, got {envelope!r}")
    rid = envelope["requestId"]
    if rid is not None and not isinstance(rid, str):
        raise ValueError(f"requestId must be a string or null, got {rid!r}")
    action = envelope["action"]
    if action not in reply_models.REPLY_MODELS:
        raise ValueError(f"no reply model for action {action!r}")
    models = reply_models.REPLY_MODELS[action]
    errors: list[ValidationError] = []
    body = json.dumps(envelope["message"])
    for model in models if isinstance(models, tuple) else (models,):
        try:
            return model.model_validate_json(body)
        except ValidationError as exc:
            errors.append(exc)
    raise ValueError(f"{action} reply does not match its model: {errors}")
