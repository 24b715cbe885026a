"""The WebSocket protocol as an AsyncAPI 3.0 document, and readable pages made from it.

Generated, never written by hand: request schemas come from the models the server validates
with (``routes.ROUTES`` -> ``messages.py``), reply schemas from ``replies.py`` (which tests
hold to what ``views.py`` / ``routes.py`` really send), and the reply examples are produced by
the real view code from sample records. The checked-in copy lives in ``docs/``; regenerate it
with ``couchpay asyncapi --out docs`` (a test fails while it differs).

The document describes the service's side: it *receives* each request action and replies on the
same connection; it *sends* purchase outcomes on its own when a Stripe webhook settles them."""

from __future__ import annotations

from couchpay.wire.asyncapi.checks import check_examples
from couchpay.wire.asyncapi.content import CHANNEL, FIELD_NOTES, PUSH_OPERATION, REGENERATE
from couchpay.wire.asyncapi.document import _model_names, build_document, dumps, request_models
from couchpay.wire.asyncapi.pages import render_docs, stale_docs, write_docs

__all__ = [
    "CHANNEL",
    "FIELD_NOTES",
    "PUSH_OPERATION",
    "REGENERATE",
    "_model_names",
    "build_document",
    "check_examples",
    "dumps",
    "render_docs",
    "request_models",
    "stale_docs",
    "write_docs",
]
