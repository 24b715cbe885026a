"""The payment gateway on the official Stripe SDK (a ``stripe.StripeClient``, never globals).

Works against real Stripe and against localstripe (``api_base``). Every SDK error is mapped to a
couchpay ``PaymentError`` here, and every mutating call carries an idempotency key.

Under a time budget (``couchpay.time_budget``: a Lambda's remaining time) each attempt's HTTP
timeout is what is left, at most ``timeout_seconds``; a retry happens only if its backoff and a
useful attempt still fit; with too little left no call starts. Running out is a lost answer
(``GatewayUnavailable``, as for a timeout): the caller keeps the purchase ``pending``
and replies ``payment_processing``; the same idempotency key settles it later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import stripe

from couchpay import time_budget
from couchpay.adapters import _stripe_mapping as mapping
from couchpay.adapters._stripe_disputes import dispute_result
from couchpay.adapters._stripe_http import BudgetedRequestsClient
from couchpay.adapters._stripe_listing import intents_of
from couchpay.domain.cards import CardFacts
from couchpay.domain.errors import CardDeclined, CardNotValid, GatewayUnavailable, NotFound
from couchpay.ports.gateway import (
    NO_OPTIONS,
    DisputeResult,
    PaymentGateway,
    PaymentIntentResult,
    PaymentOptions,
    RefundResult,
    SetupIntentResult,
)

T = TypeVar("T")
TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)
MIN_ATTEMPT_SECONDS = 0.5  # less than this left: no new call to Stripe


@contextmanager
def _stripe_boundary() -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as exc:
        raise mapping.error_from_stripe(exc) from exc


class StripeGateway(PaymentGateway):
    """``attempts``: how many times a call is tried when Stripe's answer is lost or transient
    (connection error, timeout, 5xx, 429), always with the same idempotency key.
    ``paced``: an admission line paces the PaymentIntents (``couchpay serve``): a 429 on one is
    raised at once as GatewayBusy for the line to send it again later, never slept on here."""

    def __init__(
        self,
        secret_key: str,
        api_base: str | None = None,
        *,
        attempts: int = 3,
        paced: bool = False,
        timeout_seconds: float = 30.0,
        backoff_seconds: float = 0.25,
    ) -> None:
        if not secret_key:
            raise ValueError("a Stripe secret key is required")
        self.api_base = api_base
        self.attempts = max(1, attempts)
        self.paced = paced
        self.backoff_seconds = backoff_seconds
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=0,  # we retry ourselves, 429 included, with the same key
            http_client=BudgetedRequestsClient(timeout_seconds),
        )

    def _retrying(self, call: Callable[[], T], *, rate_limit_is_final: bool = False) -> T:
        """``rate_limit_is_final``: a 429 is raised at once (as GatewayBusy at the boundary) for
        a caller that paces its own calls (the admission line) instead of sleeping here."""
        for attempt in range(1, self.attempts + 1):
            if time_budget.capped(MIN_ATTEMPT_SECONDS) < MIN_ATTEMPT_SECONDS:
                raise GatewayUnavailable()  # as if Stripe's answer were lost: settled later
            try:
                return call()
            except TRANSIENT as exc:
                pause = self.backoff_seconds * 2 ** (attempt - 1)
                needed = pause + MIN_ATTEMPT_SECONDS
                out_of_time = time_budget.capped(needed) < needed
                busy = rate_limit_is_final and isinstance(exc, stripe.RateLimitError)
                if attempt == self.attempts or out_of_time or busy:
                    raise
                time.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def __repr__(self) -> str:  # never show the key
        return f"StripeGateway(api_base={self.api_base!r})"

    # customers ---------------------------------------------------------------------------
    def create_customer(self, user_id: str, idempotency_key: str) -> str:
        with _stripe_boundary():
            customer = self._retrying(
                lambda: self._client.v1.customers.create(
                    {"metadata": {"couchpay_user_id": user_id}},
                    options={"idempotency_key": idempotency_key},
                )
            )
        return str(customer.id)

    def delete_customer(self, customer_id: str) -> None:
        try:
            self._retrying(lambda: self._client.v1.customers.delete(customer_id))
        except stripe.StripeError as exc:
            if mapping.is_missing(exc):
                return  # deleted before (a re-run): the goal is met
            raise mapping.error_from_stripe(exc) from exc

    # payment methods ---------------------------------------------------------------------
    def get_payment_method(self, payment_method_id: str) -> CardFacts:
        try:
            pm = self._retrying(lambda: self._client.v1.payment_methods.retrieve(payment_method_id))
        except stripe.StripeError as exc:
            if mapping.is_missing(exc):
                raise CardNotValid("This card is not known to the payment provider.") from exc
            raise mapping.error_from_stripe(exc) from exc
        return mapping.card_facts(pm.to_dict())

    def attach_payment_method(self, payment_method_id: str, customer_id: str) -> CardFacts:
        with _stripe_boundary():
            pm = self._retrying(
                lambda: self._client.v1.payment_methods.attach(
                    payment_method_id,
                    {"customer": customer_id},
                    options={"idempotency_key": f"attach-{payment_method_id}-{customer_id}"},
                )
            )
        return mapping.card_facts(pm.to_dict())

    def detach_payment_method(self, payment_method_id: str) -> None:
        with _stripe_boundary():
            self._retrying(
                lambda: self._client.v1.payment_methods.detach(
                    payment_method_id, options={"idempotency_key": f"detach-{payment_method_id}"}
                )
            )

    # setup intents -----------------------------------------------------------------------
    def create_setup_intent(
        self, customer_id: str, idempotency_key: str, metadata: dict[str, str] | None = None
    ) -> SetupIntentResult:
        with _stripe_boundary():
            seti = self._retrying(
                lambda: self._client.v1.setup_intents.create(
                    {
                        "customer": customer_id,
                        "usage": "off_session",
                        "allowed_payment_method_types": ["card"],
                        "metadata": dict(metadata or {}),
                    },
                    options={"idempotency_key": idempotency_key},
                )
            )
        return mapping.setup_intent_result(seti.to_dict(), with_secret=True)

    def get_setup_intent(self, setup_intent_id: str) -> SetupIntentResult:
        with _stripe_boundary():
            seti = self._retrying(lambda: self._client.v1.setup_intents.retrieve(setup_intent_id))
        return mapping.setup_intent_result(seti.to_dict(), with_secret=False)

    # payment intents ---------------------------------------------------------------------
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
        # The API version stripe 16 pins (2026-10-28) refuses payment_method_types: it is
        # allowed_payment_method_types now (our localstripe launcher maps it back, and accepts
        # shipping, receipt_email and setup_future_usage). localstripe refuses
        # automatic_payment_methods and return_url: send neither.
        params: stripe.params.PaymentIntentCreateParams = {
            "amount": amount_cents,
            "currency": currency,
            "payment_method": payment_method_id,
            "allowed_payment_method_types": ["card"],
            "confirm": True,
            "metadata": dict(metadata),
            "expand": ["latest_charge"],  # its outcome: Radar's risk level, kept in the summary
        }
        if customer_id:
            params["customer"] = customer_id
        if options.shipping is not None:
            params["shipping"] = options.shipping.as_stripe()  # type: ignore[typeddict-item]
        if options.receipt_email:
            params["receipt_email"] = options.receipt_email
        if options.save_for_later:
            params["setup_future_usage"] = "off_session"
        try:
            pi = self._retrying(
                lambda: self._client.v1.payment_intents.create(
                    params, options={"idempotency_key": idempotency_key}
                ),
                rate_limit_is_final=self.paced,
            )
        except stripe.CardError as exc:
            return self._declined(exc)
        except stripe.StripeError as exc:
            raise mapping.error_from_stripe(exc) from exc
        return mapping.payment_intent_result(pi.to_dict())

    def _declined(self, exc: stripe.CardError) -> PaymentIntentResult:
        """A decline is an outcome, not a failure: report it on the PaymentIntent it hit."""
        code = exc.code or CardDeclined.code
        message = mapping.card_message(exc)
        pi_id = mapping.payment_intent_id_of(exc)
        charge_id = mapping.charge_id_of(exc)
        try:
            if pi_id is None and charge_id is not None:
                charge = self._client.v1.charges.retrieve(charge_id).to_dict()
                pi_id = mapping.id_of(charge.get("payment_intent"))
            if pi_id is None:
                raise CardDeclined(message, code=code) from exc
            pi = self._client.v1.payment_intents.retrieve(pi_id, {"expand": ["latest_charge"]})
        except stripe.StripeError as lookup_exc:
            # The decline itself is known; only the follow-up read failed.
            raise CardDeclined(message, code=code, payment_intent_id=pi_id) from lookup_exc
        return mapping.payment_intent_result(pi.to_dict(), error_code=code, error_message=message)

    def get_payment_intent(self, payment_intent_id: str) -> PaymentIntentResult:
        with _stripe_boundary():
            pi = self._retrying(
                lambda: self._client.v1.payment_intents.retrieve(
                    payment_intent_id, {"expand": ["latest_charge"]}
                )
            )
        return mapping.payment_intent_result(pi.to_dict())

    def find_payment_intent(
        self, transaction_id: str, customer_id: str | None
    ) -> PaymentIntentResult | None:
        with _stripe_boundary():
            for pi in self._retrying(lambda: intents_of(self._client, customer_id)):
                if (pi.get("metadata") or {}).get("transaction_id") == transaction_id:
                    return self.get_payment_intent(str(pi["id"]))
        return None

    def refund(
        self, payment_intent_id: str, amount_cents: int, idempotency_key: str
    ) -> RefundResult:
        with _stripe_boundary():
            refund = self._retrying(
                lambda: self._client.v1.refunds.create(
                    {"payment_intent": payment_intent_id, "amount": amount_cents},
                    options={"idempotency_key": idempotency_key},
                )
            ).to_dict()
        return RefundResult(str(refund["id"]), str(refund.get("status")), int(refund["amount"]))

    def cancel_payment_intent(
        self, payment_intent_id: str, idempotency_key: str
    ) -> PaymentIntentResult:
        with _stripe_boundary():
            pi = self._retrying(
                lambda: self._client.v1.payment_intents.cancel(
                    payment_intent_id, options={"idempotency_key": idempotency_key}
                )
            )
        return mapping.payment_intent_result(pi.to_dict())

    def get_dispute(self, dispute_id: str) -> DisputeResult:
        try:
            dp = self._retrying(lambda: self._client.v1.disputes.retrieve(dispute_id))
        except stripe.StripeError as exc:
            if mapping.is_missing(exc):
                raise NotFound(f"Stripe has no dispute {dispute_id}.") from exc
            raise mapping.error_from_stripe(exc) from exc
        return dispute_result(dp.to_dict())


__all__ = ["StripeGateway"]
