"""Checking a cart and its payment source before anything is written or charged.

A typed-in card is only read and checked here, never saved: with ``saveCard`` it is saved once
the payment has succeeded (service/card_saving.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from couchpay.domain.errors import (
    AmountTooLarge,
    AmountTooSmall,
    CardChecksFailed,
    CardNotValid,
    ItemUnavailable,
    PriceMismatch,
    ShippingAddressRequired,
    SoldOut,
)
from couchpay.domain.pricing import MAX_CHARGE_CENTS, CartLine, minimum_charge, price_cart
from couchpay.domain.purchases import Purchase, PurchaseLine
from couchpay.domain.shipping import ShippingAddress
from couchpay.domain.statuses import PurchaseStatus
from couchpay.service.cards import check_facts
from couchpay.service.context import Services
from couchpay.service.customers import ensure_customer


@dataclass(frozen=True)
class CartItem:
    item_id: str
    price_cents: int
    quantity: int = 1


@dataclass(frozen=True)
class CartRequest:
    items: tuple[CartItem, ...]
    card_id: str | None = None
    payment_method_id: str | None = None
    save_card: bool = False
    shipping_address: ShippingAddress | None = None
    receipt_email: str | None = None

    @property
    def source_key(self) -> str:
        return f"card:{self.card_id}" if self.card_id else f"pm:{self.payment_method_id}"


@dataclass(frozen=True)
class PaymentSource:
    payment_method_id: str
    customer_id: str | None
    card_id: str | None
    brand: str
    last_four: str


@dataclass(frozen=True)
class CheckedCart:
    lines: list[CartLine]
    capacities: dict[str, int]
    """The capacity of each limited item in the cart (the claim holds their units)."""


def check_cart(svc: Services, items: tuple[CartItem, ...]) -> CheckedCart:
    """Every item must exist, be on sale, cost what the client thinks it costs, and (limited
    items) have enough units left: ``sold_out`` before anything is written or charged. The claim
    checks the units again, atomically."""
    lines = []
    wanted_units: dict[str, int] = {}
    capacities: dict[str, int] = {}
    for wanted in items:
        item = svc.store.get_item(wanted.item_id)
        if item is None or not item.active:
            raise ItemUnavailable(f"Item {wanted.item_id} is not available.")
        if item.price_cents != wanted.price_cents:
            raise PriceMismatch(f"The price of {item.name} is now {item.price_cents} cents.")
        lines.append(CartLine(item, wanted.quantity))
        if item.capacity is not None:
            capacities[item.item_id] = item.capacity
            wanted_units[item.item_id] = wanted_units.get(item.item_id, 0) + wanted.quantity
    if wanted_units:
        held = svc.store.held_units()
        for item_id, qty in wanted_units.items():
            if held.get(item_id, 0) + qty > capacities[item_id]:
                name = next(line.item.name for line in lines if line.item.item_id == item_id)
                svc.metrics.sold_out(item_id)
                raise SoldOut(f"Sorry, {name} is sold out.")
    return CheckedCart(lines, capacities)


def source_of(svc: Services, purchase: Purchase) -> PaymentSource:
    """What a claimed purchase is paid with, from the records (the card, or the user's Stripe
    customer for a card typed in once)."""
    card = svc.store.get_card(purchase.card_id) if purchase.card_id else None
    if card is not None:
        customer_id: str | None = card.stripe_customer_id
    else:
        user = svc.store.get_user(purchase.user_id)
        customer_id = user.stripe_customer_id if user else None
    return PaymentSource(
        purchase.payment_method_id,
        customer_id,
        purchase.card_id,
        purchase.card_brand,
        purchase.card_last_four,
    )


def check_order(svc: Services, lines: list[CartLine], address: ShippingAddress | None) -> None:
    """A cart that ships needs an address; a total under Stripe's minimum is refused."""
    if address is None and any(line.item.shipping_cents > 0 for line in lines):
        raise ShippingAddressRequired()
    total = price_cart(lines, svc.pricing.streaming_rate).total_cents
    least = minimum_charge(svc.pricing.currency)
    if total < least:
        raise AmountTooSmall(
            f"The total must be at least {least} in the smallest unit of "
            f"{svc.pricing.currency.upper()}."
        )


def resolve_source(svc: Services, user_id: str, cart: CartRequest) -> PaymentSource:
    now = svc.now()
    if cart.card_id is not None:
        card = svc.store.get_card(cart.card_id)
        if card is None or card.user_id != user_id or not card.usable(now):
            raise CardNotValid()
        return PaymentSource(
            card.card_token, card.stripe_customer_id, card.card_id, card.brand, card.last_four
        )
    pm_id = cart.payment_method_id or ""
    facts = svc.gateway.get_payment_method(pm_id)
    check_facts(facts, svc.store.get_user(user_id), now)
    if facts.checks_failed:
        raise CardChecksFailed()
    customer_id = ensure_customer(svc, svc.store.ensure_user(user_id, now))
    return PaymentSource(pm_id, customer_id, None, facts.brand, facts.last_four)


def build_purchase(
    svc: Services,
    user_id: str,
    request_id: str,
    digest: str,
    lines: list[CartLine],
    source: PaymentSource,
    cart: CartRequest,
) -> Purchase:
    totals = price_cart(lines, svc.pricing.streaming_rate)
    if totals.total_cents > MAX_CHARGE_CENTS:
        raise AmountTooLarge(f"The total may not be over {MAX_CHARGE_CENTS} cents.")
    now = svc.now()
    return Purchase(
        transaction_id=str(uuid.uuid4()),
        request_id=request_id,
        request_hash=digest,
        user_id=user_id,
        card_id=source.card_id,
        card_brand=source.brand,
        card_last_four=source.last_four,
        items=tuple(
            PurchaseLine(
                line.item.item_id,
                line.item.name,
                line.item.price_cents,
                line.quantity,
                line.item.shipping_cents,
                limited=line.item.capacity is not None,
            )
            for line in lines
        ),
        subtotal_cents=totals.subtotal_cents,
        streaming_cost_cents=totals.streaming_cost_cents,
        shipping_cents=totals.shipping_cents,
        total_cents=totals.total_cents,
        currency=svc.pricing.currency,
        created_at=now,
        updated_at=now,
        payment_method_id=source.payment_method_id,
        status=PurchaseStatus.QUEUED,
        shipping_address=cart.shipping_address,
        receipt_email=cart.receipt_email,
        save_card=cart.save_card and source.card_id is None,
    )
