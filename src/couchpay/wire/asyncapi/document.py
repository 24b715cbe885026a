"""The AsyncAPI 3 document, built from the request models the server validates with and the
reply models (couchpay.wire.replies); the event feed's channel is added by ``event_feed``."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from couchpay import __version__
from couchpay.wire import replies as reply_models
from couchpay.wire.asyncapi.checks import _check_coverage, _envelope, check_examples, reply_examples
from couchpay.wire.asyncapi.content import (
    ACTIONS,
    ASYNCAPI_VERSION,
    CHANNEL,
    FIELD_NOTES,
    MODEL_NOTES,
    OVERVIEW,
    PUSH_OPERATION,
    REQUEST_ID,
    SCHEMA_REF,
)
from couchpay.wire.asyncapi.event_feed import add_event_feed
from couchpay.wire.protocol import ERROR_ACTION
from couchpay.wire.routes import ROUTES


# --- the document -----------------------------------------------------------------------------
def request_models() -> dict[str, type[BaseModel]]:
    return {action: route.model for action, route in ROUTES.items()}


def _reply_models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    for models in reply_models.REPLY_MODELS.values():
        for model in models if isinstance(models, tuple) else (models,):
            if model not in seen:
                seen.append(model)
    return seen


def _schemas() -> dict[str, Any]:
    inputs: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for model in [*request_models().values(), *_reply_models()]:
        if (model, "validation") not in inputs:
            inputs.append((model, "validation"))
    _, top = models_json_schema(inputs, ref_template=SCHEMA_REF, by_alias=True)
    schemas: dict[str, Any] = top.get("$defs", {})
    request_names = _model_names(request_models().values(), schemas)
    for name, schema in schemas.items():
        schema.pop("additionalProperties", None)  # replies may gain fields: documented so
        if name in MODEL_NOTES:
            schema["description"] = MODEL_NOTES[name]
        for prop_name, prop in schema.get("properties", {}).items():
            prop.pop("title", None)
            if name in request_names and "description" not in prop and prop_name in FIELD_NOTES:
                prop["description"] = FIELD_NOTES[prop_name]
    return dict(sorted(schemas.items()))


def _model_names(models: Any, schemas: dict[str, Any]) -> set[str]:
    """Request models and every schema they refer to."""
    names: set[str] = {m.__name__ for m in models}
    pending = list(names)
    while pending:
        for ref in _refs(schemas.get(pending.pop(), {})):
            if ref not in names:
                names.add(ref)
                pending.append(ref)
    return names


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.append(ref.rsplit("/", 1)[-1])
        for value in node.values():
            found.extend(_refs(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_refs(value))
    return found


def _ref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMA_REF.format(model=name)}


def _message_schema(action: str) -> dict[str, Any]:
    models = reply_models.REPLY_MODELS[action]
    if isinstance(models, tuple):
        return {"anyOf": [_ref(m.__name__) for m in models]}
    return _ref(models.__name__)


def _request_payload(action: str, schemas: dict[str, Any]) -> dict[str, Any]:
    model = ROUTES[action].model.__name__
    required = ["action"]
    if schemas[model].get("required"):
        required.append("message")
    rid: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 128}
    if action == "purchase-request":
        required.append("requestId")
        rid["description"] = "Required: the idempotency key (a new UUID per purchase)."
    else:
        rid["description"] = "Optional; echoed in the reply."
    return {
        "type": "object",
        "required": required,
        "properties": {
            "action": {"type": "string", "const": action},
            "message": {**_ref(model), "description": "Defaults to {} when left out."},
            "requestId": rid,
        },
    }


def _reply_payload(action: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["action", "message", "requestId"],
        "properties": {
            "action": {"type": "string", "const": action},
            "message": _message_schema(action),
            "requestId": {
                "type": ["string", "null"],
                "description": "The request's requestId (null if it had none).",
            },
        },
    }


def build_document() -> dict[str, Any]:
    return add_event_feed(_websocket_document())


def _websocket_document() -> dict[str, Any]:
    _check_coverage()
    check_examples()
    schemas = _schemas()
    examples = reply_examples()
    messages: dict[str, Any] = {}
    for action, doc in ACTIONS.items():
        messages[action] = {
            "name": action,
            "title": doc.title,
            "summary": doc.summary,
            "payload": _request_payload(action, schemas),
            "examples": [
                {"name": ex.name, "payload": _envelope(action, ex.message, REQUEST_ID)}
                for ex in doc.request
            ],
        }
    for reply_action in reply_models.REPLY_MODELS:
        messages[reply_action] = {
            "name": reply_action,
            "title": reply_action,
            "summary": _reply_summary(reply_action),
            "payload": _reply_payload(reply_action),
            "examples": [
                {
                    "name": ex.name,
                    **({"summary": ex.summary} if ex.summary else {}),
                    "payload": _envelope(reply_action, ex.message, REQUEST_ID),
                }
                for ex in examples.get(reply_action, [])
            ],
        }
    channel_ref = {"$ref": f"#/channels/{CHANNEL}"}

    def msg_ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/channels/{CHANNEL}/messages/{name}"}

    operations: dict[str, Any] = {}
    for action, doc in ACTIONS.items():
        replies = [*reply_models.SUCCESS_REPLIES[action], ROUTES[action].failure, ERROR_ACTION]
        operations[action] = {
            "action": "receive",
            "channel": channel_ref,
            "title": doc.title,
            "summary": doc.summary,
            "description": doc.description,
            "tags": [{"name": doc.tag}],
            "messages": [msg_ref(action)],
            "reply": {"channel": channel_ref, "messages": [msg_ref(r) for r in replies]},
        }
    operations[PUSH_OPERATION] = {
        "action": "send",
        "channel": channel_ref,
        "title": "Purchase settled",
        "summary": "Pushed when a Stripe webhook settles a purchase the fan made.",
        "description": "Sent to every open connection of the fan, unasked, with the purchase's "
        "original `requestId`: the same success or failure reply `purchase-request` would "
        "give. Expect it after a `payment_processing` reply or a 3-D Secure flow; it may "
        "arrive more than once or after you already had the answer.",
        "tags": [{"name": "shop"}],
        "messages": [
            msg_ref("purchase-request-resp-success"),
            msg_ref("purchase-request-resp-failure"),
        ],
    }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "couchpay WebSocket API",
            "version": __version__,
            "description": OVERVIEW,
            "tags": [
                {"name": "shop", "description": "Items, purchases and 3-D Secure."},
                {"name": "wallet", "description": "Saved cards."},
                {"name": "history", "description": "Past purchases."},
                {"name": "access", "description": "What the fan may watch or collect now."},
            ],
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:8000",
                "protocol": "ws",
                "pathname": "/ws",
                "description": "`couchpay serve` on your machine (offline: an embedded "
                "localstripe stands in for Stripe).",
                "security": [{"$ref": "#/components/securitySchemes/token"}],
            },
            "aws": {
                "host": "{apiId}.execute-api.{region}.amazonaws.com",
                "protocol": "wss",
                "pathname": "/{stage}",
                "description": "API Gateway WebSocket API in front of the Lambda functions.",
                "variables": {
                    "apiId": {"description": "The API Gateway API id."},
                    "region": {"description": "The AWS region.", "examples": ["us-east-1"]},
                    "stage": {"description": "The deployment stage.", "examples": ["dev"]},
                },
                "security": [{"$ref": "#/components/securitySchemes/token"}],
            },
        },
        "channels": {
            CHANNEL: {
                "address": None,
                "title": "The WebSocket connection",
                "description": "Everything happens on the one connection the page opens at the "
                "server's URL: requests go in, replies (and pushed outcomes) come out.",
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
                "bindings": {
                    "ws": {
                        "query": {
                            "type": "object",
                            "required": ["token"],
                            "properties": {
                                "token": {
                                    "type": "string",
                                    "description": "The sign-in JWT (browsers cannot set "
                                    "headers on a WebSocket).",
                                }
                            },
                        },
                        "bindingVersion": "0.1.0",
                    }
                },
            }
        },
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "token": {
                    "type": "httpApiKey",
                    "name": "token",
                    "in": "query",
                    "description": "A JWT: a Cognito user-pool token in production, a "
                    "`couchpay dev-token` locally. Its subject is the user.",
                }
            },
        },
    }


def _reply_summary(reply_action: str) -> str:
    if reply_action == ERROR_ACTION:
        return "The frame was not a valid request (nothing was done)."
    answers = [a for a, r in reply_models.SUCCESS_REPLIES.items() if reply_action in r]
    if answers:
        return "Success reply to " + " and ".join(f"`{a}`" for a in answers) + "."
    failing = [a for a, route in ROUTES.items() if route.failure == reply_action]
    return "Failure reply to " + " and ".join(f"`{a}`" for a in failing) + "."


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
