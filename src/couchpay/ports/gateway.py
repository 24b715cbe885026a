"""The payment-gateway port: what couchpay needs from Stripe, in our own types.

Adapters raise only ``couchpay.domain.errors.PaymentError`` subclasses, and ``CardNotValid``
for a payment method Stripe does not know."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from couchpay.domain.cards import CardFacts
from couchpay.domain.disputes import Dispute
from couchpay.domain.shipping import ShippingAddress
from couchpay.domain.statuses import PaymentIntentStatus


@dataclass(frozen=True)
class PaymentIntentResult:
    id: str
    status: PaymentIntentStatus
    amount: int
    currency: str
    client_secret: str | None = None
    payment_method_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    """What we keep on the record: no client secret, no card data, no full response."""
    amount_refunded: int = 0


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str
    amount: int


@dataclass(frozen=True)
class DisputeResult:
    """A dispute as Stripe says it is now, and the PaymentIntent whose charge it disputes."""

    dispute: Dispute
    payment_intent_id: str | None


@dataclass(frozen=True)
class SetupIntentResult:
    id: str
    status: str
    customer_id: str | None
    payment_method_id: str | None
    client_secret: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentOptions:
    """What a PaymentIntent carries besides the money: Stripe's ``shipping``, ``receipt_email``
    and, when the fan asked to save the card, ``setup_future_usage="off_session"``."""

    shipping: ShippingAddress | None = None
    receipt_email: str | None = None
    save_for_later: bool = False


NO_OPTIONS = PaymentOptions()


class PaymentGateway(ABC):
    @abstractmethod
    def create_customer(self, user_id: str, idempotency_key: str) -> str:
        """Create a Stripe customer for our user; returns its id."""

    @abstractmethod
    def delete_customer(self, customer_id: str) -> None:
        """Delete a Stripe customer (a fan's erasure request); Stripe detaches its cards. One
        that is already gone counts as deleted, so a re-run after a failure is fine."""

    @abstractmethod
    def get_payment_method(self, payment_method_id: str) -> CardFacts:
        """Re-read a PaymentMethod. Unknown id -> CardNotValid."""

    @abstractmethod
    def attach_payment_method(self, payment_method_id: str, customer_id: str) -> CardFacts:
        """Attach for later use. Declined -> CardDeclined."""

    @abstractmethod
    def detach_payment_method(self, payment_method_id: str) -> None: ...

    @abstractmethod
    def create_setup_intent(
        self, customer_id: str, idempotency_key: str, metadata: dict[str, str] | None = None
    ) -> SetupIntentResult: ...

    @abstractmethod
    def get_setup_intent(self, setup_intent_id: str) -> SetupIntentResult: ...

    @abstractmethod
    def pay(
        self,
        *,
        amount_cents: int,
        currency: str,
        customer_id: str | None,
        payment_method_id: str,
        metadata: dict[str, str],
        idempotency_key: str,
        options: PaymentOptions = NO_OPTIONS,
    ) -> PaymentIntentResult:
        """Create and confirm a PaymentIntent in one call. A decline comes back as a result
        (status requires_payment_method, error_code set) when the intent's id is known, else
        raises CardDeclined."""

    @abstractmethod
    def get_payment_intent(self, payment_intent_id: str) -> PaymentIntentResult:
        """Re-read, with ``amount_refunded`` from its latest charge."""

    @abstractmethod
    def find_payment_intent(
        self, transaction_id: str, customer_id: str | None
    ) -> PaymentIntentResult | None:
        """The PaymentIntent whose metadata names our transaction, for when we never stored its
        id (the process died between Stripe's answer and our write); None if none exists."""

    @abstractmethod
    def refund(
        self, payment_intent_id: str, amount_cents: int, idempotency_key: str
    ) -> RefundResult: ...

    @abstractmethod
    def cancel_payment_intent(
        self, payment_intent_id: str, idempotency_key: str
    ) -> PaymentIntentResult: ...

    @abstractmethod
    def get_dispute(self, dispute_id: str) -> DisputeResult:
        """Re-read a dispute (``dp_...``). Its ``updated_at`` is Stripe's ``created``: the one
        who records it sets the time. Unknown id -> NotFound."""
