"""Small in-memory fakes of the ports, for fast handler tests. The real adapters are tested
against real SQLite and a real localstripe in tests/integration."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from couchpay.domain.cards import Card, CardFacts, User
from couchpay.domain.catalog import CatalogItem
from couchpay.domain.errors import (
    CardDeclined,
    CardNotValid,
    GatewayBusy,
    GatewayUnavailable,
    NotFound,
    SoldOut,
)
from couchpay.domain.events import OutboxEvent
from couchpay.domain.purchases import Purchase
from couchpay.domain.refunds import Refund
from couchpay.domain.statuses import CardStatus, PaymentIntentStatus, PurchaseStatus
from couchpay.ports.gateway import (
    NO_OPTIONS,
    DisputeResult,
    PaymentGateway,
    PaymentIntentResult,
    PaymentOptions,
    RefundResult,
    SetupIntentResult,
)
from couchpay.ports.purchase_queries import PERSONAL_FIELDS, PurchaseFilter
from couchpay.ports.store import SETTLED_FIELDS, LiveCardExists, Store
from couchpay.ports.stored_keys import dt_out
from tests.unit.fake_outbox import MemoryOutbox


class MemoryStore(MemoryOutbox, Store):
    """The Store contract in dicts (tests/contract runs the same suite on it as on SQLite)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.cards: dict[str, Card] = {}
        self.items: dict[str, CatalogItem] = {}
        self.purchases: dict[str, Purchase] = {}
        self.refunds: dict[str, Refund] = {}
        self.events: set[str] = set()
        self.held: dict[str, int] = {}
        self.outbox: dict[tuple[str, int], OutboxEvent] = {}

    def _check_dt(self, *values: datetime) -> None:
        if any(v.tzinfo is None for v in values):
            raise ValueError("the store only takes timezone-aware datetimes")

    def get_user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def _create_user(self, user_id: str, now: datetime) -> User:
        with self.lock:
            return self.users.setdefault(user_id, User(user_id, now))

    def _user(self, user_id: str) -> User:
        if user_id not in self.users:
            raise NotFound(f"no user {user_id}")
        return self.users[user_id]

    def set_stripe_customer(self, user_id: str, customer_id: str) -> User:
        with self.lock:
            user = self._user(user_id)
            if user.stripe_customer_id is None:
                user = self.users[user_id] = replace(user, stripe_customer_id=customer_id)
            return user

    def set_default_card(self, user_id: str, card_id: str | None) -> None:
        with self.lock:
            self.users[user_id] = replace(self._user(user_id), default_card_id=card_id)

    def _add_card(self, card: Card, events: list[OutboxEvent]) -> None:
        with self.lock:
            self._one_live(card)
            self._place(events)
            self.cards[card.card_id] = card
            self._put_events(events)

    def _one_live(self, card: Card) -> None:
        if not (card.active and card.status is CardStatus.LIVE):
            return
        for other in self.cards.values():
            if (
                other.card_id != card.card_id
                and (other.user_id, other.fingerprint) == (card.user_id, card.fingerprint)
                and other.active
                and other.status is CardStatus.LIVE
            ):
                raise LiveCardExists(other.card_id)

    def get_card(self, card_id: str) -> Card | None:
        return self.cards.get(card_id)

    def _update_card(self, card: Card, events: list[OutboxEvent]) -> None:
        with self.lock:
            if card.card_id not in self.cards:
                raise NotFound(f"no card {card.card_id}")
            self._one_live(card)
            self._place(events)
            self.cards[card.card_id] = card
            self._put_events(events)

    def list_cards(self, user_id: str) -> list[Card]:
        mine = [c for c in self.cards.values() if c.user_id == user_id]
        return sorted(mine, key=lambda c: (c.created_at, c.card_id))

    def find_cards_by_token(self, card_token: str) -> list[Card]:
        found = [c for c in self.cards.values() if c.card_token == card_token]
        return sorted(found, key=lambda c: (c.created_at, c.card_id))

    def cards_with_status(self, status: CardStatus) -> Iterator[Card]:
        return iter(
            sorted((c for c in self.cards.values() if c.status is status), key=lambda c: c.card_id)
        )

    def put_item(self, item: CatalogItem) -> None:
        self.items[item.item_id] = item

    def get_item(self, item_id: str) -> CatalogItem | None:
        return self.items.get(item_id)

    def _all_items(self) -> list[CatalogItem]:
        return list(self.items.values())

    def _insert_purchase(
        self, purchase: Purchase, holds: dict[str, int], capacities: dict[str, int]
    ) -> bool:
        self._check_dt(purchase.created_at, purchase.updated_at)
        purchase = replace(
            purchase,
            created_at=purchase.created_at.astimezone(UTC),
            updated_at=purchase.updated_at.astimezone(UTC),
        )
        with self.lock:
            if self.get_purchase_by_request(purchase.user_id, purchase.request_id) is not None:
                return False
            if any(self.held.get(i, 0) + q > capacities[i] for i, q in holds.items()):
                raise SoldOut()
            for item_id, qty in holds.items():
                self.held[item_id] = self.held.get(item_id, 0) + qty
            self.purchases[purchase.transaction_id] = purchase
            return True

    def held_units(self) -> dict[str, int]:
        return dict(self.held)

    def get_purchase(self, transaction_id: str) -> Purchase | None:
        return self.purchases.get(transaction_id)

    def get_purchase_by_request(self, user_id: str, request_id: str) -> Purchase | None:
        for p in list(self.purchases.values()):
            if p.user_id == user_id and p.request_id == request_id:
                return p
        return None

    def get_purchase_by_intent(self, payment_intent_id: str) -> Purchase | None:
        for p in list(self.purchases.values()):
            if p.payment_intent_id == payment_intent_id:
                return p
        return None

    def list_unsettled_purchases(self, updated_before: datetime, limit: int) -> list[Purchase]:
        found = [
            p
            for p in self.purchases.values()
            if not p.status.settled and p.updated_at < updated_before
        ]
        return sorted(found, key=lambda p: (p.updated_at, p.transaction_id))[:limit]

    def _settle(
        self,
        purchase: Purchase,
        expected: PurchaseStatus,
        deltas: dict[str, int],
        events: list[OutboxEvent],
        read_at: datetime | None,
    ) -> bool:
        with self.lock:
            current = self.purchases.get(purchase.transaction_id)
            if current is None or current.status is not expected:
                return False
            if read_at is not None and current.updated_at != read_at:
                return False
            self._place(events)
            self._put_events(events)
            self.purchases[purchase.transaction_id] = replace(
                current, **{name: getattr(purchase, name) for name in SETTLED_FIELDS}
            )
            for item_id, delta in deltas.items():
                self.held[item_id] = self.held.get(item_id, 0) + delta
            return True

    def _purchases_newest_first(
        self, user_id: str, before: tuple[str, str] | None, count: int
    ) -> list[Purchase]:
        mine = sorted(
            (
                p
                for p in self.purchases.values()
                if p.user_id == user_id
                and (before is None or (dt_out(p.created_at), p.transaction_id) < before)
            ),
            key=lambda p: (p.created_at, p.transaction_id),
            reverse=True,
        )
        return mine[:count]

    def _find_newest_first(
        self, where: PurchaseFilter, before: tuple[str, str] | None, count: int
    ) -> list[Purchase]:
        found = sorted(
            (
                p
                for p in self.purchases.values()
                if where.matches(p)
                and (before is None or (dt_out(p.created_at), p.transaction_id) < before)
            ),
            key=lambda p: (p.created_at, p.transaction_id),
            reverse=True,
        )
        return found[:count]

    def _write_personal_fields(self, purchase: Purchase) -> None:
        with self.lock:
            current = self.purchases.get(purchase.transaction_id)
            if current is None:
                raise NotFound(f"no purchase {purchase.transaction_id}")
            self.purchases[purchase.transaction_id] = replace(
                current, **{name: getattr(purchase, name) for name in PERSONAL_FIELDS}
            )

    def clear_stripe_customer(self, user_id: str, customer_id: str) -> None:
        with self.lock:
            user = self.users.get(user_id)
            if user is not None and user.stripe_customer_id == customer_id:
                self.users[user_id] = replace(user, stripe_customer_id=None)

    def _insert_refund(self, refund: Refund) -> bool:
        with self.lock:
            if refund.refund_key in self.refunds:
                return False
            self.refunds[refund.refund_key] = refund
            return True

    def _get_refund(self, refund_key: str) -> Refund | None:
        return self.refunds.get(refund_key)

    def update_refund(self, refund: Refund) -> None:
        if refund.refund_key not in self.refunds:
            raise NotFound(f"no refund {refund.refund_key}")
        self.refunds[refund.refund_key] = refund

    def list_refunds(self, transaction_id: str) -> list[Refund]:
        mine = [r for r in self.refunds.values() if r.transaction_id == transaction_id]
        return sorted(mine, key=lambda r: (r.created_at, r.refund_key))

    def record_event(self, event_id: str, event_type: str, now: datetime) -> bool:
        with self.lock:
            first = event_id not in self.events
            self.events.add(event_id)
            return first


# card numbers the fake knows, as the test cards of SPEC behave
OK, THREE_DS, DECLINE_CHARGE, DECLINE_ATTACH = "4242", "3155", "0341", "0002"


class FakeGateway(PaymentGateway):
    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.methods: dict[str, tuple[CardFacts, str]] = {}
        self.intents: dict[str, PaymentIntentResult] = {}
        self.customers: list[str] = []
        self.deleted_customers: list[str] = []
        self.calls: list[str] = []
        self.refund_keys: set[str] = set()
        self.pay_options: list[PaymentOptions] = []
        self.down = False
        self.rate_limited = 0
        """How many of the next ``pay`` calls answer as Stripe's 429 (nothing done)."""
        self.disputes: dict[str, DisputeResult] = {}
        """What ``get_dispute`` answers (a test sets what 'Stripe' says now)."""

    def card(self, kind: str = OK, fingerprint: str | None = None, **facts: Any) -> str:
        pm_id = f"pm_{next(self.ids)}"
        base = CardFacts(pm_id, fingerprint or f"fp_{kind}", "visa", kind, 12, 2099)
        self.methods[pm_id] = (replace(base, **facts), kind)
        return pm_id

    def _check(self, call: str) -> None:
        self.calls.append(call)
        if self.down:
            raise GatewayUnavailable()

    def create_customer(self, user_id: str, idempotency_key: str) -> str:
        self._check("create_customer")
        self.customers.append(f"cus_{user_id}")
        return f"cus_{user_id}"

    def delete_customer(self, customer_id: str) -> None:
        self._check("delete_customer")
        self.deleted_customers.append(customer_id)

    def get_payment_method(self, payment_method_id: str) -> CardFacts:
        self._check("get_payment_method")
        if payment_method_id not in self.methods:
            raise CardNotValid()
        return self.methods[payment_method_id][0]

    def attach_payment_method(self, payment_method_id: str, customer_id: str) -> CardFacts:
        self._check("attach")
        facts, kind = self.methods[payment_method_id]
        if kind == DECLINE_ATTACH:
            raise CardDeclined(code="card_declined")
        facts = replace(facts, customer_id=customer_id)
        self.methods[payment_method_id] = (facts, kind)
        return facts

    def detach_payment_method(self, payment_method_id: str) -> None:
        self._check("detach")
        facts, kind = self.methods[payment_method_id]
        self.methods[payment_method_id] = (replace(facts, customer_id=None), kind)

    def create_setup_intent(
        self, customer_id: str, idempotency_key: str, metadata: dict[str, str] | None = None
    ) -> SetupIntentResult:
        self._check("create_setup_intent")
        return SetupIntentResult(
            "seti_1", "requires_payment_method", customer_id, None, "seti_1_s", metadata or {}
        )

    def get_setup_intent(self, setup_intent_id: str) -> SetupIntentResult:
        self._check("get_setup_intent")
        return SetupIntentResult(setup_intent_id, "succeeded", "cus_u1", "pm_1")

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
        self._check("pay")
        self.pay_options.append(options)
        if self.rate_limited > 0:
            self.rate_limited -= 1
            raise GatewayBusy()
        kind = self.methods[payment_method_id][1]
        status = {
            THREE_DS: PaymentIntentStatus.REQUIRES_ACTION,
            DECLINE_CHARGE: PaymentIntentStatus.REQUIRES_PAYMENT_METHOD,
        }.get(kind, PaymentIntentStatus.SUCCEEDED)
        pi_id = f"pi_{next(self.ids)}"
        intent = PaymentIntentResult(
            pi_id,
            status,
            amount_cents,
            currency,
            client_secret=f"{pi_id}_secret",
            payment_method_id=payment_method_id,
            error_code="card_declined" if kind == DECLINE_CHARGE else None,
            error_message="Your card was declined." if kind == DECLINE_CHARGE else None,
            metadata=metadata,
            summary={"id": pi_id, "status": status.value},
        )
        self.intents[pi_id] = intent
        return intent

    def complete_3ds(self, pi_id: str, success: bool) -> None:
        """What the page's stripe.confirmCardPayment does at Stripe."""
        intent = self.intents[pi_id]
        if success:
            self.intents[pi_id] = replace(intent, status=PaymentIntentStatus.SUCCEEDED)
        else:
            self.intents[pi_id] = replace(
                intent,
                status=PaymentIntentStatus.REQUIRES_PAYMENT_METHOD,
                error_code="payment_intent_authentication_failure",
                error_message="The provided PaymentMethod has failed authentication.",
            )

    def get_payment_intent(self, payment_intent_id: str) -> PaymentIntentResult:
        self._check("get_payment_intent")
        return self.intents[payment_intent_id]

    def find_payment_intent(
        self, transaction_id: str, customer_id: str | None
    ) -> PaymentIntentResult | None:
        self._check("find_payment_intent")
        for intent in self.intents.values():
            if intent.metadata.get("transaction_id") == transaction_id:
                return intent
        return None

    def refund(
        self, payment_intent_id: str, amount_cents: int, idempotency_key: str
    ) -> RefundResult:
        self._check("refund")
        intent = self.intents[payment_intent_id]
        if idempotency_key not in self.refund_keys:
            self.refund_keys.add(idempotency_key)
            self.intents[payment_intent_id] = replace(
                intent, amount_refunded=intent.amount_refunded + amount_cents
            )
        return RefundResult(f"re_{idempotency_key}", "succeeded", amount_cents)

    def cancel_payment_intent(
        self, payment_intent_id: str, idempotency_key: str
    ) -> PaymentIntentResult:
        self._check("cancel")
        intent = replace(self.intents[payment_intent_id], status=PaymentIntentStatus.CANCELED)
        self.intents[payment_intent_id] = intent
        return intent

    def get_dispute(self, dispute_id: str) -> DisputeResult:
        self._check("get_dispute")
        if dispute_id not in self.disputes:
            raise NotFound(f"no dispute {dispute_id}")
        return self.disputes[dispute_id]
