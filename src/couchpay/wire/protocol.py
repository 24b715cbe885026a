"""Wire envelope <-> handlers. The only place where errors become replies.

Request ``{"action", "message", "requestId"}``; reply ``{"action", "message", "requestId"}``.
Envelope problems (bad JSON, unknown action, oversized frame, invalid message) answer with
action ``error``; a failed use case answers with the action's own failure name."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from couchpay.domain.errors import BadRequest, CouchpayError, FrameTooLarge, Unauthorized
from couchpay.domain.errors import UnknownAction as UnknownActionError
from couchpay.service.context import Services
from couchpay.wire import views
from couchpay.wire.routes import ROUTES, Route

log = logging.getLogger(__name__)
MAX_FRAME_BYTES = 32 * 1024
ERROR_ACTION = "error"


def reply(action: str, message: dict[str, Any], request_id: str | None) -> dict[str, Any]:
    return {"action": action, "message": message, "requestId": request_id}


def error_message(exc: CouchpayError) -> dict[str, Any]:
    return views.body(views.failure(exc.code, exc.message))


@dataclass(frozen=True)
class Request:
    """A frame that passed the envelope and its message model."""

    route: Route
    message: Any
    request_id: str | None


def handle_frame(svc: Services, user_id: str, raw: str | bytes) -> dict[str, Any]:
    """Answer one frame from an authenticated user. Never raises."""
    parsed = parse(raw)
    return parsed if isinstance(parsed, dict) else answer(svc, user_id, parsed)


def parse(raw: str | bytes) -> Request | dict[str, Any]:
    """The request in a frame, or the ``error`` reply to it. Pure and cheap: no I/O."""
    envelope: dict[str, Any] = {}
    try:
        envelope = _decode(raw)
        route = _route(envelope)
        msg = _validate(route, envelope.get("message", {}))
    except CouchpayError as exc:
        return reply(ERROR_ACTION, error_message(exc), _request_id(envelope))
    return Request(route, msg, _request_id(envelope))


def answer(svc: Services, user_id: str, request: Request) -> dict[str, Any]:
    """Run a parsed request as ``user_id``. Never raises."""
    route, msg, request_id = request.route, request.message, request.request_id
    try:
        if any(claimed not in (None, user_id) for claimed in (msg.user_id, msg.cog_id)):
            raise Unauthorized("userId/cogId do not match the signed-in user.")
        action, model = route.run(svc, user_id, msg, request_id)
    except CouchpayError as exc:
        return reply(route.failure, error_message(exc), request_id)
    except Exception:
        log.exception("unexpected error in %s", route.run.__name__)
        return reply(route.failure, error_message(CouchpayError()), request_id)
    return reply(action, views.body(model), request_id)


def refuse(raw: str | bytes, exc: CouchpayError) -> dict[str, Any]:
    """An ``error`` reply to a frame we will not handle (rate limit), echoing its requestId."""
    try:
        envelope = _decode(raw)
    except CouchpayError:
        envelope = {}
    return reply(ERROR_ACTION, error_message(exc), _request_id(envelope))


def _decode(raw: str | bytes) -> dict[str, Any]:
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_FRAME_BYTES:
        raise FrameTooLarge()
    try:
        envelope = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("The frame is not valid JSON.") from exc
    if not isinstance(envelope, dict):
        raise BadRequest("The frame must be a JSON object.")
    return envelope


def _request_id(envelope: dict[str, Any]) -> str | None:
    """The requestId to echo: only a well-formed one (a string of 1 to 128 characters)."""
    rid = envelope.get("requestId")
    return rid if isinstance(rid, str) and 0 < len(rid) <= 128 else None


def _route(envelope: dict[str, Any]) -> Route:
    if envelope.get("requestId") is not None and _request_id(envelope) is None:
        raise BadRequest("requestId must be a string of 1 to 128 characters.")
    action = envelope.get("action")
    if not isinstance(action, str) or action not in ROUTES:
        raise UnknownActionError(f"Unknown action. Known: {', '.join(sorted(ROUTES))}.")
    if not isinstance(envelope.get("message", {}), dict):
        raise BadRequest("message must be a JSON object.")
    return ROUTES[action]


def _validate(route: Route, message: dict[str, Any]) -> Any:
    try:
        return route.model.model_validate(message)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise BadRequest(f"Invalid message: {where}: {first['msg']}.") from exc
