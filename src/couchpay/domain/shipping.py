"""Where a physical item is sent: the fan's shipping address, checked before anything is written.

Invariants: every field is stripped text within its length bound; ``country`` is an ISO 3166-1
alpha-2 code (upper case) that exists (the ``iso3166`` package's list); ``line2`` and ``state``
are ``None`` rather than empty. The bounds are Stripe's (line fields up to 200 characters)."""

from __future__ import annotations

from dataclasses import dataclass

from iso3166 import countries_by_alpha2

from couchpay.domain.errors import BadRequest

MAX_NAME = 200
MAX_LINE = 200
MAX_CITY = 100
MAX_STATE = 100
MAX_POSTAL_CODE = 20


@dataclass(frozen=True)
class ShippingAddress:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    state: str | None = None

    def __post_init__(self) -> None:
        for field_name, value, most, required in (
            ("name", self.name, MAX_NAME, True),
            ("line1", self.line1, MAX_LINE, True),
            ("line2", self.line2, MAX_LINE, False),
            ("city", self.city, MAX_CITY, True),
            ("state", self.state, MAX_STATE, False),
            ("postalCode", self.postal_code, MAX_POSTAL_CODE, True),
        ):
            if value is None and not required:
                continue
            if not isinstance(value, str) or value != value.strip() or len(value) > most:
                raise BadRequest(f"Shipping address: {field_name} is not valid.")
            if required and not value:
                raise BadRequest(f"Shipping address: {field_name} is required.")
        if self.country not in countries_by_alpha2:
            raise BadRequest("Shipping address: country must be an ISO 3166 two-letter code.")

    @classmethod
    def parse(
        cls,
        *,
        name: str,
        line1: str,
        city: str,
        postal_code: str,
        country: str,
        line2: str | None = None,
        state: str | None = None,
    ) -> ShippingAddress:
        """From what a fan typed: surrounding spaces dropped, empty optional fields as None."""
        return cls(
            name=name.strip(),
            line1=line1.strip(),
            city=city.strip(),
            postal_code=postal_code.strip(),
            country=country.strip().upper(),
            line2=(line2 or "").strip() or None,
            state=(state or "").strip() or None,
        )

    def as_stripe(self) -> dict[str, object]:
        """The PaymentIntent's ``shipping`` parameter."""
        address = {
            "line1": self.line1,
            "line2": self.line2 or "",
            "city": self.city,
            "state": self.state or "",
            "postal_code": self.postal_code,
            "country": self.country,
        }
        return {"name": self.name, "address": address}
