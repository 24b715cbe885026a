"""What ``get-user-entitlements`` is for: the page an integrator (the streaming side, the
shipping side) builds against. The examples are what the real views make of sample purchases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from couchpay.domain.catalog import DEMO_CATALOG
from couchpay.domain.disputes import Dispute, DisputeStatus
from couchpay.domain.entitlements import entitlements
from couchpay.wire import entitlements as wire
from couchpay.wire import views
from couchpay.wire.asyncapi.samples import (
    _CURSOR,
    _T,
    COMMON_FAILURES,
    SAMPLE_PURCHASE,
    ActionDoc,
    Example,
)

_CATALOG = {item.item_id: item for item in DEMO_CATALOG}
_DISPUTED = replace(
    SAMPLE_PURCHASE,
    dispute=Dispute(
        dispute_id="dp_1PqR2sT3uV4wX5yZ",
        charge_id="ch_3PqR2sT3uV4wX5yZ",
        amount_cents=SAMPLE_PURCHASE.total_cents,
        currency="usd",
        reason="fraudulent",
        status=DisputeStatus.NEEDS_RESPONSE,
        evidence_due_by=_T + timedelta(days=7),
        created_at=_T,
        updated_at=_T,
    ),
)

ENTITLEMENT_ACTIONS: dict[str, ActionDoc] = {
    "get-user-entitlements": ActionDoc(
        title="What the fan may watch or collect now",
        summary="The fan's entitlements, derived from their paid purchases, a page at a time.",
        description="One entitlement per line of a paid purchase: a `livestream` to watch (with "
        "`showStartsAt`, the show's start as the catalog says now), `meet_and_greet` slots, "
        "`merch` to ship, each with its `transactionId`, `itemId`, `quantity` and `status`. "
        "Build the streaming side on this: let the fan in when an `active` livestream "
        "entitlement is listed, not when a purchase reply arrived.\n\n"
        "**Rules.** Only paid purchases entitle. A full refund revokes (the entitlement is no "
        "longer listed); a partial refund changes nothing (refunds are amounts, not items: "
        "refund in full to take an item back). When the cardholder disputes the payment at "
        "their bank, the purchase's entitlements are `suspended` while the dispute is open "
        "(an inquiry or a chargeback), `active` again when it is won (or the inquiry closes), "
        "and revoked when it is lost.\n\n"
        "**Pages.** Newest purchase first, its items in cart order. Pass `nextCursor` back as "
        "`cursor`; it is `null` on the last page. A page holds at most `limit` entitlements "
        "(one purchase's are never split) and fewer when more would not fit in one 128 KB "
        "message; a fan with many unpaid or refunded purchases may get a short or even empty "
        "page with a `nextCursor`: follow `nextCursor`, never the count. Nothing is cached: "
        "ask again after a refund or a dispute.",
        tag="access",
        request=(
            Example("first page", {}),
            Example("next page", {"limit": 50, "cursor": _CURSOR}),
        ),
        success={
            wire.SUCCESS: (
                Example(
                    "the demo cart, paid",
                    views.body(
                        wire.entitlements_view(entitlements([SAMPLE_PURCHASE], _CATALOG), None)
                    ),
                    "A livestream with its show time, a meet-and-greet slot, a poster to ship.",
                ),
                Example(
                    "under dispute",
                    views.body(wire.entitlements_view(entitlements([_DISPUTED], _CATALOG), None)),
                    "The fan's bank disputes the payment: suspended until the dispute closes.",
                ),
            )
        },
        failures=(
            ("bad_request", "The cursor is not one this service gave out."),
            *COMMON_FAILURES,
        ),
    ),
}
