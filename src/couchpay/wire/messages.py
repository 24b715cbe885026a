"""The messages clients send, as validated models (the wire's names are kept as aliases).

Unknown extra fields (the notes' ``userEmail``, ``tokenObj``...) are ignored; known ones are
checked strictly: a string where a number belongs is an error, never coerced."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from couchpay.domain.pricing import MAX_CHARGE_CENTS
from couchpay.domain.shipping import ShippingAddress

Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
PaymentMethodId = Annotated[str, StringConstraints(pattern=r"^(pm|card|src)_[A-Za-z0-9_]{1,200}$")]


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, strict=True, frozen=True)
    user_id: Id | None = Field(None, alias="userId")
    cog_id: Id | None = Field(None, alias="cogId")


class Empty(Message):
    pass


class PaymentMethodRef(BaseModel):
    """The PaymentMethod object Stripe.js returned to the page; only its id is used."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)
    id: PaymentMethodId


class CreatePaymentMethod(Message):
    stripe_payment: PaymentMethodId | PaymentMethodRef | None = Field(None, alias="stripePayment")
    setup_intent_id: (
        Annotated[str, StringConstraints(pattern=r"^seti_[A-Za-z0-9_]{1,200}$")] | None
    ) = Field(None, alias="setupIntentId")

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.stripe_payment is None) == (self.setup_intent_id is None):
            raise ValueError("send exactly one of stripePayment and setupIntentId")
        return self


class CardRef(Message):
    card_id: Id = Field(alias="cardId")


class ItemLine(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)
    item_id: Id
    price_cents: int = Field(ge=0, le=MAX_CHARGE_CENTS)
    quantity: int = Field(1, ge=1, le=100)


Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalLine = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
City = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Region = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]


class ShippingAddressIn(BaseModel):
    """Where the cart's physical items go. country: ISO 3166-1 alpha-2 (US, GB, DE, ...)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True, frozen=True)
    name: Line = Field(description="The recipient.")
    line1: Line
    line2: OptionalLine | None = None
    city: City
    state: Region | None = Field(None, description="State, county or region, if any.")
    postal_code: PostalCode = Field(alias="postalCode")
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] = Field(
        description="ISO 3166-1 alpha-2 country code.", examples=["US"]
    )

    def to_domain(self) -> ShippingAddress:
        """Raises BadRequest for a country code that does not exist."""
        return ShippingAddress.parse(
            name=self.name,
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            state=self.state,
            postal_code=self.postal_code,
            country=self.country,
        )


class PurchaseRequest(Message):
    card_id: Id | None = Field(None, alias="cardId")
    stripe_payment: PaymentMethodId | PaymentMethodRef | None = Field(None, alias="stripePayment")
    save_card: bool = Field(False, alias="saveCard")
    items: list[ItemLine] = Field(min_length=1, max_length=50)
    shipping_address: ShippingAddressIn | None = Field(
        None,
        alias="shippingAddress",
        description="Required when any item ships (shippingCents > 0).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.card_id is None) == (self.stripe_payment is None):
            raise ValueError("send exactly one of cardId and stripePayment")
        return self


class ConfirmPurchase(Message):
    transaction_id: Id = Field(alias="transactionId")


class GetPurchase(Message):
    """One purchase, by its transactionId or by the requestId of the purchase-request that made it
    (how a page finds the outcome of an order it sent before a reload). Exactly one."""

    transaction_id: Id | None = Field(None, alias="transactionId")
    request_id: Id | None = Field(None, alias="requestId")

    @model_validator(mode="after")
    def _one_key(self) -> Self:
        if (self.transaction_id is None) == (self.request_id is None):
            raise ValueError("send exactly one of transactionId and requestId")
        return self


class PurchaseHistory(Message):
    limit: int = Field(20, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = Field(
        None, validation_alias=AliasChoices("cursor", "nextCursor")
    )


def payment_method_id(ref: str | PaymentMethodRef | None) -> str | None:
    if isinstance(ref, PaymentMethodRef):
        return ref.id
    return ref
