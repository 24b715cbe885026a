"""``get-user-entitlements``: the request model, the view (records -> ``entitlement_replies``)
and the handler ``routes.ROUTES`` runs. Replies are paged by count and by bytes, like the
history, so that every page fits one API Gateway message (``reply_size``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, BaseModel, Field, StringConstraints

from couchpay.domain.entitlements import Entitlement
from couchpay.service.context import Services
from couchpay.service.entitlements import entitlements_page
from couchpay.wire import reply_size
from couchpay.wire.entitlement_replies import EntitlementsSuccess, EntitlementView
from couchpay.wire.messages import Message

SUCCESS = "get-user-entitlements-resp-success"
FAILURE = "get-user-entitlements-resp-failure"
PAGE_BYTES = reply_size.HISTORY_PAGE_BYTES  # the cap less the envelope, as for the history


class GetEntitlements(Message):
    limit: int = Field(
        50,
        ge=1,
        le=100,
        description="Entitlements per page, at most (one purchase's are never split over two "
        "pages, so a page may hold more when one purchase alone has more lines).",
    )
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = Field(
        None,
        validation_alias=AliasChoices("cursor", "nextCursor"),
        description="The `nextCursor` of the previous page (`nextCursor` is accepted as the "
        "name too).",
    )


def entitlement_view(e: Entitlement) -> EntitlementView:
    return EntitlementView(
        transaction_id=e.transaction_id,
        item_id=e.item_id,
        name=e.name,
        kind=e.kind,
        quantity=e.quantity,
        status=e.status,
        purchased_at=e.purchased_at,
        show_starts_at=e.show_starts_at,
    )


def entitlements_view(page: list[Entitlement], cursor: str | None) -> EntitlementsSuccess:
    return EntitlementsSuccess(entitlements=[entitlement_view(e) for e in page], next_cursor=cursor)


def get_entitlements(
    svc: Services, user_id: str, msg: GetEntitlements, rid: str | None
) -> tuple[str, BaseModel]:
    page, cursor = entitlements_page(
        svc,
        user_id,
        msg.limit,
        msg.cursor,
        size_of=lambda e: reply_size.size(
            entitlement_view(e).model_dump(mode="json", by_alias=True)
        ),
        max_bytes=PAGE_BYTES,
    )
    return SUCCESS, entitlements_view(page, cursor)
