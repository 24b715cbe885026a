"""The readable docs/ pages: an index and one page per action."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from couchpay.wire import replies as reply_models
from couchpay.wire.asyncapi.checks import _envelope
from couchpay.wire.asyncapi.content import (
    ACTIONS,
    ASYNCAPI_VERSION,
    CODES,
    ERROR_CODES,
    ERROR_EXAMPLES,
    PUSH_OPERATION,
    REGENERATE,
    REQUEST_ID,
    UNAUTHORIZED_EXAMPLE,
    Example,
)
from couchpay.wire.asyncapi.document import (
    build_document,
    dumps,
)
from couchpay.wire.asyncapi.event_feed import feed_page
from couchpay.wire.protocol import ERROR_ACTION
from couchpay.wire.routes import ROUTES


# --- readable pages ---------------------------------------------------------------------------
def render_docs(document: dict[str, Any] | None = None) -> dict[str, str]:
    """Every generated file, relative to the docs directory -> its text."""
    doc = document if document is not None else build_document()
    files = {"asyncapi.json": dumps(doc), "README.md": _index(doc), "events.md": feed_page(doc)}
    for action in ACTIONS:
        files[f"actions/{action}.md"] = _action_page(doc, action)
    return files


def write_docs(out_dir: Path) -> list[Path]:
    """Write the generated files under ``out_dir``; remove action pages no longer generated."""
    files = render_docs()
    written = []
    for rel, text in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in sorted((out_dir / "actions").glob("*.md")):
        if f"actions/{stale.name}" not in files:
            stale.unlink()
    return written


def stale_docs(out_dir: Path) -> list[str]:
    """Generated files that are missing or differ under ``out_dir`` (and stray action pages)."""
    files = render_docs()
    wrong = [
        rel
        for rel, text in files.items()
        if not (out_dir / rel).is_file() or (out_dir / rel).read_text(encoding="utf-8") != text
    ]
    wrong += [
        f"actions/{p.name} (not generated any more)"
        for p in sorted((out_dir / "actions").glob("*.md"))
        if f"actions/{p.name}" not in files
    ]
    return wrong


_GENERATED = (
    f"<!-- Generated from the code by `{REGENERATE}`: edit src/couchpay/wire/asyncapi/, "
    "wire/messages.py or wire/replies.py, not this file. -->\n\n"
)


def _index(doc: dict[str, Any]) -> str:
    lines = [
        _GENERATED + "# The couchpay WebSocket protocol",
        "",
        f"AsyncAPI {ASYNCAPI_VERSION} document: [asyncapi.json](asyncapi.json) "
        f"(protocol version {doc['info']['version']}). Open it in "
        "[AsyncAPI Studio](https://studio.asyncapi.com/) or generate a client from it.",
        "",
        doc["info"]["description"],
        "",
        "## Actions",
        "",
        "| request | what for | success reply | failure reply |",
        "|---|---|---|---|",
    ]
    for action, adoc in ACTIONS.items():
        success = ", ".join(f"`{r}`" for r in reply_models.SUCCESS_REPLIES[action])
        lines.append(
            f"| [`{action}`](actions/{action}.md) | {adoc.summary} | {success} "
            f"| `{ROUTES[action].failure}` |"
        )
    lines += [
        "",
        "## Pushed: purchase settled",
        "",
        doc["operations"][PUSH_OPERATION]["description"],
        "",
        "## Invalid frames: `error`",
        "",
        "Any frame that is not a valid request is answered with action `error` "
        "(`requestId` echoed when it could be read) and changes nothing.",
        "",
        "| code | when |",
        "|---|---|",
        *(f"| `{code}` | {when} |" for code, when in ERROR_CODES),
        "",
        "```json",
        _pretty(_envelope(ERROR_ACTION, ERROR_EXAMPLES[0].message, None)),
        "```",
        "",
        "## Failure codes",
        "",
        "| code | meaning | actions |",
        "|---|---|---|",
    ]
    used: dict[str, list[str]] = {}
    for action, adoc in ACTIONS.items():
        for code, _ in adoc.failures:
            used.setdefault(code, []).append(f"`{action}`")
    for code, _ in ERROR_CODES:
        used.setdefault(code, []).append("any (as `error`)")
    for code in sorted(used):
        where = "all" if len(used[code]) == len(ACTIONS) else ", ".join(used[code])
        lines.append(f"| `{code}` | {CODES[code]} | {where} |")
    lines.append("")
    return "\n".join(lines)


def _action_page(doc: dict[str, Any], action: str) -> str:
    adoc = ACTIONS[action]
    schemas = doc["components"]["schemas"]
    model = ROUTES[action].model.__name__
    rid = "required (the idempotency key)" if action == "purchase-request" else "optional"
    lines = [
        _GENERATED + f"# `{action}`: {adoc.title}",
        "",
        f"{adoc.summary}",
        "",
        adoc.description,
        "",
        "## Request",
        "",
        f'`{{"action": "{action}", "message": {{...}}, "requestId": "..."}}`; '
        f"`requestId` is {rid}.",
        "",
    ]
    refs: list[str] = []
    lines += _fields(schemas, model, refs)
    for ex in adoc.request:
        lines += _example(ex, _envelope(action, ex.message, REQUEST_ID))
    lines += ["## Success", ""]
    for reply_action, examples in adoc.success.items():
        lines += [f"### `{reply_action}`", ""]
        lines += _fields_for_reply(schemas, reply_action, refs)
        for ex in examples:
            lines += _example(ex, _envelope(reply_action, ex.message, REQUEST_ID))
    failure = ROUTES[action].failure
    lines += [
        "## Failure",
        "",
        f'Action `{failure}`, message `{{"code", "error"}}`'
        + (
            "; once the purchase is recorded also `transactionId` and `status`."
            if failure == "purchase-request-resp-failure"
            else "."
        ),
        "",
        "| code | when |",
        "|---|---|",
        *(f"| `{code}` | {when} |" for code, when in adoc.failures),
        "",
        "A frame that is not a valid request (bad JSON, a missing or mistyped field) is "
        "answered with action `error` instead; see the [index](../README.md).",
        "",
    ]
    examples = adoc.failure_examples or (Example("unauthorized", UNAUTHORIZED_EXAMPLE),)
    for ex in examples:
        lines += _example(ex, _envelope(failure, ex.message, REQUEST_ID))
    done: set[str] = set()
    if refs:
        lines += ["## Types", ""]
    while refs:
        name = refs.pop(0)
        if name in done:
            continue
        done.add(name)
        lines += [f"### `{name}`", ""]
        lines += _fields(schemas, name, refs)
    return "\n".join(lines).rstrip() + "\n"


def _fields_for_reply(schemas: dict[str, Any], reply_action: str, refs: list[str]) -> list[str]:
    models = reply_models.REPLY_MODELS[reply_action]
    names = [m.__name__ for m in (models if isinstance(models, tuple) else (models,))]
    out: list[str] = []
    for name in names:
        out += _fields(schemas, name, refs)
    return out


def _fields(schemas: dict[str, Any], name: str, refs: list[str]) -> list[str]:
    schema = schemas[name]
    out = []
    if schema.get("description"):
        out += [schema["description"].replace("\n", " "), ""]
    if "enum" in schema:
        out += ["One of " + ", ".join(f"`{json.dumps(v)}`" for v in schema["enum"]) + ".", ""]
    props = schema.get("properties", {})
    if not props:
        return out
    required = set(schema.get("required", []))
    out += ["| field | type | required | notes |", "|---|---|---|---|"]
    for prop_name, prop in props.items():
        out.append(
            f"| `{prop_name}` | {_type(prop, refs)} | {'yes' if prop_name in required else 'no'} "
            f"| {_notes(prop)} |"
        )
    out.append("")
    return out


def _type(s: dict[str, Any], refs: list[str]) -> str:
    if "$ref" in s:
        name = s["$ref"].rsplit("/", 1)[-1]
        refs.append(name)
        return f"`{name}`"
    if "const" in s:
        return f"`{json.dumps(s['const'])}`"
    if "enum" in s:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in s["enum"])
    for key in ("anyOf", "oneOf"):
        if key in s:
            return " or ".join(_type(option, refs) for option in s[key])
    kind = s.get("type")
    if kind == "array":
        return f"array of {_type(s.get('items', {}), refs)}"
    if isinstance(kind, list):
        return " or ".join(kind)
    if s.get("format") == "date-time":
        return "string (ISO 8601 date-time)"
    return str(kind or "any")


def _notes(s: dict[str, Any]) -> str:
    parts = [s["description"].replace("\n", " ")] if s.get("description") else []
    constraints = _constraints(s)
    for option in s.get("anyOf", []):
        constraints += _constraints(option)
    if constraints:
        text = "; ".join(constraints)
        parts.append(text[0].upper() + text[1:] + ".")
    if "default" in s and s["default"] is not None:
        parts.append(f"Default `{json.dumps(s['default'])}`.")
    return " ".join(parts).replace("|", "\\|")


def _constraints(s: dict[str, Any]) -> list[str]:
    out = []
    if "minLength" in s or "maxLength" in s:
        out.append(f"{s.get('minLength', 0)} to {s.get('maxLength', 'any number of')} characters")
    if "minimum" in s or "maximum" in s:
        low, high = s.get("minimum"), s.get("maximum")
        out.append(f"{low} to {high}" if high is not None else f"at least {low}")
    if "minItems" in s or "maxItems" in s:
        out.append(f"{s.get('minItems', 0)} to {s.get('maxItems', 'any number of')} entries")
    if "pattern" in s:
        out.append(f"matches `{s['pattern']}`")
    return out


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _example(ex: Example, envelope: dict[str, Any]) -> list[str]:
    head = f"Example: {ex.name}" + (f". {ex.summary}" if ex.summary else "")
    return [head, "", "```json", _pretty(envelope), "```", ""]
