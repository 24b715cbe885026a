"""The reply of ``get-user-entitlements``: what the fan may watch or collect now (the rules are in
``domain.entitlements``). Same invariants as ``replies.py``: extra keys forbidden, every key
required (null when unset)."""

from __future__ import annotations

from pydantic import Field

from couchpay.domain.catalog import ItemKind
from couchpay.domain.entitlements import EntitlementStatus
from couchpay.wire.reply_base import Reply, Timestamp


class EntitlementView(Reply):
    """One line of a paid purchase the fan may use: a livestream to watch, meet-and-greet slots,
    merch to ship."""

    transaction_id: str = Field(
        alias="transactionId", description="The purchase it comes from (get-purchase)."
    )
    item_id: str = Field(alias="itemId", description="The catalog item (get-items' itemId).")
    name: str = Field(description="The item's name when it was bought.")
    kind: ItemKind = Field(description="livestream, meet_and_greet or merch (ships).")
    quantity: int = Field(ge=1, description="Tickets, slots or pieces bought.")
    status: EntitlementStatus = Field(
        description="active: the fan may use it now. suspended: a dispute of the payment is "
        "open; it is back if the dispute is won, gone if it is lost."
    )
    purchased_at: Timestamp = Field(alias="purchasedAt")
    show_starts_at: Timestamp | None = Field(
        alias="showStartsAt",
        description="Livestreams: when the show starts, as the catalog says now (a rescheduled "
        "show reads right); null for anything else, or a livestream with no time set.",
    )


class EntitlementsSuccess(Reply):
    entitlements: list[EntitlementView] = Field(
        description="Newest purchase first, its items in cart order. Revoked ones (refunded in "
        "full, dispute lost) and unpaid purchases are not listed."
    )
    next_cursor: str | None = Field(
        alias="nextCursor", description="Send as cursor for the next page; null at the end."
    )
