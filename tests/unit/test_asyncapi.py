"""The AsyncAPI document and the docs/ pages: generated from the models, checked in, and kept
in step (regenerate with `couchpay asyncapi --out docs`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from couchpay.entrypoints.cli import main
from couchpay.wire import asyncapi
from couchpay.wire import replies as reply_models
from couchpay.wire.asyncapi.checks import validate_reply
from couchpay.wire.routes import ROUTES

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return asyncapi.build_document()


def test_checked_in_docs_are_what_the_code_generates() -> None:
    generated = asyncapi.render_docs()
    stale = asyncapi.stale_docs(DOCS)
    assert not stale, (
        f"docs/ is out of date with the protocol models ({', '.join(stale)}). "
        f"Regenerate it from the checkout with `.venv/bin/{asyncapi.REGENERATE}` "
        "and commit the result."
    )
    assert {f"actions/{a}.md" for a in ROUTES} <= set(generated)


def test_document_is_asyncapi_3_and_covers_every_action(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    ops = doc["operations"]
    assert set(ops) == {*ROUTES, asyncapi.PUSH_OPERATION, "fulfillment-event"}  # + the event feed
    channel = doc["channels"][asyncapi.CHANNEL]
    for action, route in ROUTES.items():
        op = ops[action]
        assert op["action"] == "receive"
        [request] = op["messages"]
        assert request["$ref"] == f"#/channels/api/messages/{action}"
        replies = [r["$ref"].rsplit("/", 1)[-1] for r in op["reply"]["messages"]]
        assert replies == [*reply_models.SUCCESS_REPLIES[action], route.failure, "error"]
        for name in [action, *replies]:
            assert name in channel["messages"]
            assert name in doc["components"]["messages"]


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _all_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _all_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _all_refs(v)]
    return []


def test_every_reference_resolves(doc: dict[str, Any]) -> None:
    for ref in _all_refs(doc):
        assert ref.startswith("#/"), ref
        _resolve(doc, ref)


def test_request_schemas_are_the_server_models(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for action, route in ROUTES.items():
        payload = doc["components"]["messages"][action]["payload"]
        assert payload["properties"]["action"]["const"] == action
        model = route.model.__name__
        assert payload["properties"]["message"]["$ref"] == f"#/components/schemas/{model}"
        expected = route.model.model_json_schema(by_alias=True)
        assert set(schemas[model]["properties"]) == set(expected["properties"])
        assert set(schemas[model].get("required", [])) == set(expected.get("required", []))
    assert "requestId" in doc["components"]["messages"]["purchase-request"]["payload"]["required"]


def test_every_request_field_is_described(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for name in asyncapi._model_names(asyncapi.request_models().values(), schemas):
        for prop, schema in schemas[name].get("properties", {}).items():
            assert schema.get("description"), f"{name}.{prop}: add it to asyncapi.FIELD_NOTES"


def test_examples_are_valid_against_the_models(doc: dict[str, Any]) -> None:
    asyncapi.check_examples()
    for name, message in doc["components"]["messages"].items():
        assert message["examples"], f"{name} has no example"
        if name in doc["channels"]["events"]["messages"]:
            continue  # the event feed's: tests/unit/test_event_feed_models.py
        for example in message["examples"]:
            envelope = example["payload"]
            assert envelope["action"] == name
            if name in ROUTES:
                ROUTES[name].model.model_validate_json(json.dumps(envelope["message"]))
            else:
                validate_reply(json.dumps(envelope))


def test_the_demo_purchase_example_is_the_spec_total(doc: dict[str, Any]) -> None:
    [paid] = doc["components"]["messages"]["purchase-request-resp-success"]["examples"][:1]
    message = paid["payload"]["message"]
    assert (
        message["subtotalCents"],
        message["streamingCostCents"],
        message["shippingCents"],
        message["totalCents"],
    ) == (17000, 1700, 500, 19200)


def test_no_secret_in_the_document() -> None:
    text = asyncapi.dumps(asyncapi.build_document())
    assert "sk_test" not in text and "sk_live" not in text and "whsec_" not in text


def test_pages_have_a_request_a_success_and_failure_codes() -> None:
    files = asyncapi.render_docs()
    for action, route in ROUTES.items():
        page = files[f"actions/{action}.md"]
        assert f'"action": "{action}"' in page
        for reply_action in reply_models.SUCCESS_REPLIES[action]:
            assert f'"action": "{reply_action}"' in page
        assert f"`{route.failure}`" in page and "| code | when |" in page
        assert f"actions/{action}.md" in files["README.md"]


def test_cli_prints_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["asyncapi"]) == 0
    assert json.loads(capsys.readouterr().out) == asyncapi.build_document()
    out = tmp_path / "docs"
    assert main(["asyncapi", "--out", str(out), "--check"]) == 1
    assert "couchpay asyncapi --out docs" in capsys.readouterr().err
    (out / "actions").mkdir(parents=True)
    (out / "actions" / "old-action.md").write_text("gone")
    assert main(["asyncapi", "--out", str(out)]) == 0
    assert not (out / "actions" / "old-action.md").exists()
    assert asyncapi.stale_docs(out) == []
    assert main(["asyncapi", "--out", str(out), "--check"]) == 0
