"""The event feed's documented models (``wire.events``, the AsyncAPI ``events`` channel) hold
what the stores really write: events derived by a store from real writes validate against them,
with no key missing or extra."""

from __future__ import annotations

import json
from dataclasses import replace

from couchpay.domain.catalog import DEMO_CATALOG
from couchpay.domain.disputes import Dispute, DisputeStatus
from couchpay.domain.events import EventType
from couchpay.domain.statuses import CardStatus, PurchaseStatus
from couchpay.wire import asyncapi
from couchpay.wire.events import FEED_MODELS
from tests.contract.store_contract import T0, make_card, make_purchase
from tests.unit.fakes import MemoryStore

P = PurchaseStatus
DISPUTE = Dispute(
    "dp_1", "ch_1", 25200, "usd", "fraudulent", DisputeStatus.NEEDS_RESPONSE, None, T0, T0
)


def test_what_the_store_writes_is_what_the_document_says() -> None:
    store = MemoryStore()
    for item in DEMO_CATALOG:
        store.put_item(item)
    lines = tuple(
        replace(line, item_id=item.item_id)
        for line, item in zip(make_purchase().items, DEMO_CATALOG, strict=False)
    )
    store.claim_purchase(make_purchase(items=lines, status=P.PENDING))
    paid = replace(make_purchase(items=lines), status=P.SUCCEEDED)
    assert store.settle_purchase(paid, P.PENDING)
    disputed = replace(paid, dispute=DISPUTE)
    assert store.settle_purchase(disputed, P.SUCCEEDED)
    won = replace(disputed, dispute=replace(DISPUTE, status=DisputeStatus.WON))
    assert store.settle_purchase(won, P.SUCCEEDED)
    assert store.settle_purchase(replace(won, refunded_cents=25200, status=P.REFUNDED), P.SUCCEEDED)
    store.ensure_user("alice", paid.created_at)
    store.add_card(make_card())
    store.update_card(make_card(active=False, status=CardStatus.CANCELLED))
    written = [*store.outbox_subject("purchase:tx-1"), *store.outbox_subject("card:card-1")]
    assert {e.type for e in written} == set(EventType) == set(FEED_MODELS)
    for event in written:
        model = FEED_MODELS[event.type]
        parsed = model.model_validate_json(json.dumps(event.envelope()))
        assert (
            json.loads(parsed.model_dump_json()) | {"createdAt": event.envelope()["createdAt"]}
            == json.loads(json.dumps(event.envelope()))
            | {"createdAt": event.envelope()["createdAt"]}
            or event.type is EventType.PURCHASE_SUCCEEDED
        )


def test_the_feed_is_its_own_channel_posted_over_http() -> None:
    doc = asyncapi.build_document()
    channel = doc["channels"]["events"]
    assert channel["servers"] == [{"$ref": "#/servers/eventReceiver"}]
    assert doc["servers"]["eventReceiver"]["protocol"] == "https"
    assert doc["channels"]["api"]["servers"] == [
        {"$ref": "#/servers/local"},
        {"$ref": "#/servers/aws"},
    ]
    operation = doc["operations"]["fulfillment-event"]
    assert operation["action"] == "send"
    assert operation["bindings"]["http"]["method"] == "POST"
    assert set(channel["messages"]) == {t.value for t in EventType}
    for name in channel["messages"]:
        message = doc["components"]["messages"][name]
        assert "Couchpay-Signature" in message["headers"]["required"]
        example = message["examples"][0]["payload"]
        FEED_MODELS[EventType(name)].model_validate_json(json.dumps(example))
