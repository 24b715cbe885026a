"""The fulfillment event feed in the AsyncAPI document: its own channel (``events``) on its own
server (the receiver's HTTPS endpoint), couchpay *sends* each event there as an HTTP POST (http
binding), signed. Schemas come from ``wire.events``; the examples are what ``domain.events``
derives from the sample records (the same code the stores run), checked against the models."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from pydantic.json_schema import models_json_schema

from couchpay.domain.catalog import DEMO_CATALOG
from couchpay.domain.disputes import DisputeStatus
from couchpay.domain.event_signature import DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER
from couchpay.domain.events import EventType, OutboxEvent, card_events_for, events_for
from couchpay.domain.statuses import PurchaseStatus
from couchpay.wire.asyncapi.samples import SAMPLE_CARD, SAMPLE_DISPUTE, SAMPLE_PURCHASE, SCHEMA_REF
from couchpay.wire.events import FEED_MODELS

EVENTS_CHANNEL = "events"
EVENTS_OPERATION = "fulfillment-event"
RECEIVER_SERVER = "eventReceiver"
HTTP_BINDING = "0.3.0"

FEED_DESCRIPTION = (
    "couchpay POSTs each fulfillment event, as JSON, to every endpoint configured in "
    "`COUCHPAY_EVENTS_URLS` (on AWS the `eventsUrls` parameter). Every state change that "
    "matters writes its event in the same database transaction as the change, so none is "
    "lost. Delivery is **at least once**: dedupe on `id`. Order: a subject's events "
    "(`purchase:<transactionId>`, `card:<cardId>`) are numbered by `sequence` and an event is "
    "first sent only after every earlier event of its subject was acknowledged; a late "
    "duplicate of an earlier event may still arrive, so apply a subject's events by "
    "`sequence` and ignore ids you already have. Answer 2xx once the event is stored on your "
    "side; anything else (or no answer in 10 s) is retried with exponential backoff (5 s, "
    "10 s, 20 s, ... up to an hour, forever), and it holds back that subject's later events. "
    f"Every request carries `{SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "
    '"{t}.{raw body}" with the signing secret>`: reject a delivery whose signature does not '
    f"match or whose `t` is more than {DEFAULT_TOLERANCE_SECONDS} s away from your clock "
    "(`couchpay.client.verify_event` does both). No event carries card data, names, emails "
    "or addresses: ids, amounts in cents, items and statuses."
)

HEADERS = {
    "type": "object",
    "required": [SIGNATURE_HEADER, "Couchpay-Event-Id", "Couchpay-Event-Type", "Content-Type"],
    "properties": {
        SIGNATURE_HEADER: {
            "type": "string",
            "description": 't=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">',
            "examples": [
                "t=1773518709,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"
            ],
        },
        "Couchpay-Event-Id": {"type": "string", "description": "The body's `id`."},
        "Couchpay-Event-Type": {"type": "string", "description": "The body's `type`."},
        "Content-Type": {"type": "string", "const": "application/json"},
    },
}


def sample_events() -> dict[EventType, OutboxEvent]:
    """One event of each type, as the stores derive them from the sample records."""
    catalog = {item.item_id: item for item in DEMO_CATALOG}
    paid = replace(SAMPLE_PURCHASE, status=PurchaseStatus.PENDING)
    done = SAMPLE_PURCHASE
    later = replace(done, refunded_cents=2000, updated_at=done.updated_at + timedelta(days=1))
    disputed = replace(
        later, dispute=SAMPLE_DISPUTE, updated_at=later.updated_at + timedelta(days=1)
    )
    won = replace(
        disputed,
        dispute=replace(SAMPLE_DISPUTE, status=DisputeStatus.WON),
        updated_at=disputed.updated_at + timedelta(days=20),
    )
    derived = [
        *events_for(paid, done, catalog.get),
        *events_for(done, later, catalog.get),
        *events_for(later, disputed, catalog.get),
        *events_for(disputed, won, catalog.get),
        *card_events_for(None, SAMPLE_CARD),
        *card_events_for(SAMPLE_CARD, SAMPLE_CARD.cancelled(SAMPLE_CARD.updated_at)),
    ]
    found: dict[EventType, OutboxEvent] = {}
    for new in derived:
        same_subject = [e for e in found.values() if e.subject == new.subject]
        found[new.type] = new.placed(len(same_subject) + 1)
    for event_type, model in FEED_MODELS.items():
        model.model_validate_json(_json(found[event_type]))
    return found


def _json(event: OutboxEvent) -> str:
    import json

    return json.dumps(event.envelope())


def add_event_feed(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with the feed's server, channel, operation, messages and schemas added (the
    WebSocket channel stays on the WebSocket servers)."""
    _, top = models_json_schema(
        [(m, "validation") for m in FEED_MODELS.values()], ref_template=SCHEMA_REF, by_alias=True
    )
    schemas = top.get("$defs", {})
    clash = set(schemas) & set(doc["components"]["schemas"]) - {
        "ItemKind",
        "CardStatus",
        "PurchaseStatus",
    }
    if clash:
        raise ValueError(f"event feed schemas named like protocol schemas: {sorted(clash)}")
    for schema in schemas.values():
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
    doc["components"]["schemas"] = dict(sorted({**doc["components"]["schemas"], **schemas}.items()))
    samples = sample_events()
    messages: dict[str, Any] = {}
    for event_type, model in FEED_MODELS.items():
        messages[event_type.value] = {
            "name": event_type.value,
            "title": event_type.value,
            "summary": " ".join((model.__doc__ or "").split()).replace("``", "`"),
            "contentType": "application/json",
            "payload": {"$ref": SCHEMA_REF.format(model=model.__name__)},
            "headers": HEADERS,
            "bindings": {"http": {"bindingVersion": HTTP_BINDING}},
            "examples": [{"name": "example", "payload": samples[event_type].envelope()}],
        }
    doc["components"]["messages"].update(messages)
    websocket_servers = [{"$ref": f"#/servers/{name}"} for name in doc["servers"]]
    for channel in doc["channels"].values():
        channel["servers"] = websocket_servers
    doc["servers"][RECEIVER_SERVER] = {
        "host": "{receiverHost}",
        "protocol": "https",
        "description": "Your endpoint: one of the URLs in `COUCHPAY_EVENTS_URLS`.",
        "variables": {"receiverHost": {"description": "Your receiver's host (and port)."}},
    }
    doc["channels"][EVENTS_CHANNEL] = {
        "address": "{receiverPath}",
        "title": "The fulfillment event feed",
        "description": FEED_DESCRIPTION,
        "servers": [{"$ref": f"#/servers/{RECEIVER_SERVER}"}],
        "parameters": {"receiverPath": {"description": "The path of your endpoint's URL."}},
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
    }
    doc["operations"][EVENTS_OPERATION] = {
        "action": "send",
        "channel": {"$ref": f"#/channels/{EVENTS_CHANNEL}"},
        "title": "Fulfillment event",
        "summary": "couchpay POSTs one event to your endpoint; answer 2xx once it is stored.",
        "description": FEED_DESCRIPTION,
        "tags": [{"name": "events"}],
        "bindings": {"http": {"method": "POST", "bindingVersion": HTTP_BINDING}},
        "messages": [{"$ref": f"#/channels/{EVENTS_CHANNEL}/messages/{name}"} for name in messages],
    }
    doc["info"]["tags"].append(
        {"name": "events", "description": "Fulfillment events POSTed to your endpoint."}
    )
    return doc


def feed_page(doc: dict[str, Any]) -> str:
    """docs/events.md: the feed for an integrator, from the document."""
    import json

    messages = doc["components"]["messages"]
    lines = [
        "<!-- Generated by `couchpay asyncapi --out docs`; do not edit. -->",
        "# The fulfillment event feed",
        "",
        doc["channels"][EVENTS_CHANNEL]["description"],
        "",
        "| type | when |",
        "|---|---|",
        *(f"| `{t.value}` | {messages[t.value]['summary']} |" for t in FEED_MODELS),
        "",
        "Schemas: `#/components/schemas` of [asyncapi.json](asyncapi.json) (channel `events`).",
    ]
    for event_type in FEED_MODELS:
        example = messages[event_type.value]["examples"][0]["payload"]
        lines += ["", f"## `{event_type.value}`", "", "```json", json.dumps(example, indent=2)]
        lines += ["```"]
    return "\n".join(lines) + "\n"
