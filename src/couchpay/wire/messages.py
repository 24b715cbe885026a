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


class PurchaseRequest(Message):
    card_id: Id | None = Field(None, alias="cardId")
    stripe_payment: PaymentMethodId | PaymentMethodRef | None = Field(None, alias="stripePayment")
    save_card: bool = Field(False, alias="saveCard")
    items: list[ItemLine] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.card_id is None) == (self.stripe_payment is None):
            raise ValueError("send exactly one of cardId and stripePayment")
        return self


class ConfirmPurchase(Message):
    transaction_id: Id = Field(alias="transactionId")


class PurchaseHistory(Message):
    limit: int = Field(20, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = Field(
        None, validation_alias=AliasChoices("cursor", "nextCursor")
    )


def payment_method_id(ref: str | PaymentMethodRef | None) -> str | None:
    if isinstance(ref, PaymentMethodRef):
        return ref.id
    return ref
