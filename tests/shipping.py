"""A shipping address for test carts that hold the poster (a cart that ships needs one)."""

from __future__ import annotations

from typing import Any

ADDRESS: dict[str, Any] = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postalCode": "SW1Y 4JH",
    "country": "GB",
}
