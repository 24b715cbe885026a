"""A fan's data on request: everything couchpay keeps about them as one document (``couchpay
users export``), and its erasure (``couchpay users forget``).

Forgetting erases what ``domain.personal_data`` says on every record (cards, purchases), cancels
the fan's live cards, deletes their Stripe customer and clears its id, and keeps the financial
records (ids, amounts, statuses, dates). Each step writes only what is not erased yet and reads
the store afresh, so a run that fails halfway (Stripe down, a crash) is re-run to completion, and
a second run changes nothing. It refuses (nothing changed) while a purchase of the fan is still
open (queued, pending, 3-D Secure: its shipping address may still go to Stripe; settle it first
with ``couchpay reconcile``, or wait) or under an open dispute (the address and email are the
evidence; forget once the dispute is closed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from couchpay.domain.errors import BadRequest, NotFound
from couchpay.domain.events import card_subject, purchase_subject
from couchpay.domain.personal_data import erased_card, erased_purchase
from couchpay.domain.purchases import Purchase
from couchpay.domain.refunds import Refund
from couchpay.ports.records import to_plain
from couchpay.ports.stored_keys import dt_out
from couchpay.service.context import Services

EXPORT_FORMAT = "couchpay.user-export/1"
PAGE = 100


def purchase_record(p: Purchase, refunds: list[Refund]) -> dict[str, Any]:
    """A purchase as operators and exports see it: every stored field (Stripe's summary as an
    object), and its refunds."""
    return {
        **to_plain(p),
        "stripe_response": p.stripe_response,
        "refunds": [to_plain(r) for r in refunds],
    }


def users_purchases(svc: Services, user_id: str) -> Iterator[Purchase]:
    cursor: str | None = None
    while True:
        page, cursor = svc.store.list_purchases(user_id, PAGE, cursor)
        yield from page
        if cursor is None:
            return


def export_user(svc: Services, user_id: str) -> dict[str, Any]:
    """Every record couchpay keeps about the user (NotFound for a user it never saw)."""
    user = svc.store.get_user(user_id)
    if user is None:
        raise NotFound(f"no user {user_id!r}")
    cards = svc.store.list_cards(user_id)
    purchases = list(users_purchases(svc, user_id))
    subjects = [card_subject(c.card_id) for c in cards] + [
        purchase_subject(p.transaction_id) for p in purchases
    ]
    return {
        "format": EXPORT_FORMAT,
        "exported_at": dt_out(svc.now()),
        "user": to_plain(user),
        "cards": [to_plain(c) for c in cards],
        "purchases": [
            purchase_record(p, svc.store.list_refunds(p.transaction_id)) for p in purchases
        ],
        "fulfillment_events": [
            event.envelope() for subject in subjects for event in svc.store.outbox_subject(subject)
        ],
    }


@dataclass(frozen=True)
class Forgotten:
    user_id: str
    cards_erased: int
    purchases_erased: int
    stripe_customer_deleted: str | None

    def line(self) -> str:
        customer = self.stripe_customer_deleted or "none left"
        return (
            f"user {self.user_id}: {self.cards_erased} card(s) and {self.purchases_erased}"
            f" purchase(s) erased now; Stripe customer deleted: {customer}"
        )


def forget_user(svc: Services, user_id: str) -> Forgotten:
    user = svc.store.get_user(user_id)
    if user is None:
        raise NotFound(f"no user {user_id!r}")
    purchases = list(users_purchases(svc, user_id))
    # A purchase under an open dispute is still open for this: its shipping address is the
    # evidence for "product not received" (erasure yields to defending a legal claim).
    still_open = [
        p.transaction_id
        for p in purchases
        if not p.status.settled or (p.dispute is not None and p.dispute.open)
    ]
    if still_open:
        raise BadRequest(
            f"user {user_id!r} has purchases still open ({', '.join(still_open)}): settle them"
            " first (couchpay reconcile) or wait; nothing was changed"
        )
    now = svc.now()
    cards = 0
    for card in svc.store.list_cards(user_id):
        erased = erased_card(card, now)
        if erased != card:
            svc.store.update_card(erased)
            cards += 1
    if user.default_card_id is not None:
        svc.store.set_default_card(user_id, None)
    erased_purchases = 0
    for p in purchases:
        blank = erased_purchase(p)
        if blank != p:
            svc.store.erase_personal_data(blank)
            erased_purchases += 1
    customer = user.stripe_customer_id
    if customer is not None:
        svc.gateway.delete_customer(customer)
        svc.store.clear_stripe_customer(user_id, customer)
    return Forgotten(user_id, cards, erased_purchases, customer)
