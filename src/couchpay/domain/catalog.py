"""What couchtour.tv sells.

Only a livestream has a show start time (``show_starts_at``, timezone-aware UTC) or None; the
description is plain text, possibly empty."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class ItemKind(StrEnum):
    LIVESTREAM = "livestream"
    MEET_AND_GREET = "meet_and_greet"
    MERCH = "merch"


@dataclass(frozen=True)
class CatalogItem:
    item_id: str
    name: str
    kind: ItemKind
    price_cents: int
    shipping_cents: int = 0
    active: bool = True
    description: str = ""
    show_starts_at: datetime | None = None
    capacity: int | None = None
    """Units that may ever be sold (meet-and-greet slots, numbered posters); None: unlimited.
    The store counts the units held by open and paid purchases; they are never oversold."""

    def remaining(self, held: int) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - held)


DEMO_CATALOG: tuple[CatalogItem, ...] = (
    CatalogItem(
        "9f1c2a8e-1d51-4c55-9d1e-5a3c0f0b0001",
        "Livestream ticket",
        ItemKind.LIVESTREAM,
        2000,
        description="The Midnight Owls, live from the Roundhouse, London: the full 2-hour show "
        "in HD, with replay for 48 hours.",
        show_starts_at=datetime(2027, 3, 14, 20, 0, tzinfo=UTC),
    ),
    CatalogItem(
        "9f1c2a8e-1d51-4c55-9d1e-5a3c0f0b0002",
        "Meet and greet",
        ItemKind.MEET_AND_GREET,
        5000,
        description="A 10-minute video call with The Midnight Owls after the show.",
    ),
    CatalogItem(
        "9f1c2a8e-1d51-4c55-9d1e-5a3c0f0b0003",
        "Tour poster",
        ItemKind.MERCH,
        10000,
        500,
        description="Signed 18 x 24 in. tour poster, shipped to your door in a tube.",
    ),
)
