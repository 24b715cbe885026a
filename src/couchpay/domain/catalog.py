"""What couchtour.tv sells."""

from __future__ import annotations

from dataclasses import dataclass
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
    capacity: int | None = None
    """Units that may ever be sold (meet-and-greet slots, numbered posters); None: unlimited.
    The store counts the units held by open and paid purchases; they are never oversold."""

    def remaining(self, held: int) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - held)


DEMO_CATALOG: tuple[CatalogItem, ...] = (
    CatalogItem(
        "9f1c2a8e-1d51-4c55-9d1e-5a3c0f0b0001", "Livestream ticket", ItemKind.LIVESTREAM, 2000
    ),
    CatalogItem(
        "9f1c2a8e-1d51-4c55-9d1e-5a3c0f0b0002", "Meet and greet", ItemKind.MEET_AND_GREET, 5000
    ),
    CatalogItem("9f1c2a8e-1d51-4c55-9d1e-5a3c0f0b0003", "Tour poster", ItemKind.MERCH, 10000, 500),
)
