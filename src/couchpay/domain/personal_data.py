"""What a fan's erasure request ("forget me") changes on their records, and what it keeps.

Erased: the name, street lines, city and postal code of a shipping address (replaced by ERASED,
so the record keeps its shape), the receipt email, the name on a card, and the request digest
(it was computed over the address). Kept: every id, amount, status and date, the items bought,
the card's brand and last four, and the address's country and state: the tax jurisdiction of the
sale (VAT by country, US sales tax by state), which accounting must be able to show, and which
names nobody on its own. The user id is kept too: it is the identity provider's opaque subject,
and without it a re-run could not find what is left to do.

Erasing is idempotent: erasing an erased record gives the same record."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from couchpay.domain.cards import Card
from couchpay.domain.purchases import Purchase
from couchpay.domain.shipping import ShippingAddress

ERASED = "[erased]"
FORGOTTEN_REQUEST = "forgotten"
"""The request digest of an erased purchase: no purchase request ever hashes to it, so a retried
requestId of a forgotten fan is ``request_id_reused`` (refused, nothing charged)."""


def erased_address(address: ShippingAddress) -> ShippingAddress:
    return replace(address, name=ERASED, line1=ERASED, line2=None, city=ERASED, postal_code=ERASED)


def erased_purchase(p: Purchase) -> Purchase:
    return replace(
        p,
        shipping_address=erased_address(p.shipping_address) if p.shipping_address else None,
        receipt_email=None,
        request_hash=FORGOTTEN_REQUEST,
    )


def erased_card(card: Card, now: datetime) -> Card:
    """No name, and out of the wallet: a live card is cancelled (never charged again once its
    owner asked to be forgotten); a card already out keeps its status (expired, error...)."""
    out = card.cancelled(now) if card.active else card
    return replace(out, name_on_card=None, updated_at=now) if out.name_on_card else out
