"""The case of the 128 KB issue: 44 purchases with 50-line carts (~164 KB as one page)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from couchpay.domain.purchases import Purchase, PurchaseLine
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.store import Store
from tests.contract.store_contract import T0, make_purchase

PURCHASES, LINES = 44, 50


def big_purchase(user_id: str, n: int) -> Purchase:
    lines = tuple(
        PurchaseLine(f"item-{n:02d}-{i:02d}", f"Tour poster, signed edition #{i:02d}", 2500, 1)
        for i in range(LINES)
    )
    total = sum(line.unit_price_cents for line in lines)
    return replace(
        make_purchase(f"tx-{user_id}-{n:02d}", f"req-{user_id}-{n:02d}", user_id),
        items=lines,
        subtotal_cents=total,
        streaming_cost_cents=0,
        shipping_cents=0,
        total_cents=total,
        created_at=T0 + timedelta(minutes=n),
        updated_at=T0 + timedelta(minutes=n),
        payment_intent_id=f"pi_{user_id}_{n:02d}",
        status=PurchaseStatus.SUCCEEDED,
    )


def seed(store: Store, user_id: str) -> list[str]:
    """The purchases, newest first (as the history lists them): their transaction ids."""
    ids = []
    for n in range(PURCHASES):
        purchase, ours = store.claim_purchase(big_purchase(user_id, n))
        assert ours
        ids.append(purchase.transaction_id)
    return ids[::-1]
