"""The store's own failure: an invariant it keeps was found broken (a claim whose record cannot be
read). Never a user's error: it is not a ``CouchpayError`` and becomes ``internal_error``; the
halves of the store port (``store``, ``refund_store``) raise it."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store broke one of its own invariants (e.g. a claim whose record cannot be read)."""
