"""The payment gateway on the official Stripe SDK (a ``stripe.StripeClient``, never globals).

Works against real Stripe and against localstripe (``api_base``). Every SDK error is mapped to a
couchpay ``PaymentError`` here, and every mutating call carries an idempotency key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import stripe

from couchpay.adapters import _stripe_mapping as mapping
from couchpay.domain.cards import CardFacts
from couchpay.domain.errors import CardDeclined, CardNotValid
from couchpay.ports.gateway import PaymentGateway, PaymentIntentResult, SetupIntentResult


@contextmanager
def _stripe_boundary() -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as exc:
        raise mapping.error_from_stripe(exc) from exc


class StripeGateway(PaymentGateway):
    def __init__(
        self, secret_key: str, api_base: str | None = None, max_network_retries: int = 0
    ) -> None:
        if not secret_key:
            raise ValueError("a Stripe secret key is required")
        self.api_base = api_base
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
        )

    def __repr__(self) -> str:  # never show the key
        return f"StripeGateway(api_base={self.api_base!r})"

    # customers ---------------------------------------------------------------------------
    def create_customer(self, user_id: str, idempotency_key: str) -> str:
        with _stripe_boundary():
            customer = self._client.v1.customers.create(
                {"metadata": {"couchpay_user_id": user_id}},
                options={"idempotency_key": idempotency_key},
            )
        return str(customer.id)

    # payment methods ---------------------------------------------------------------------
    def get_payment_method(self, payment_method_id: str) -> CardFacts:
        try:
            pm = self._client.v1.payment_methods.retrieve(payment_method_id)
        except stripe.StripeError as exc:
            if mapping.is_missing(exc):
                raise CardNotValid("This card is not known to the payment provider.") from exc
            raise mapping.error_from_stripe(exc) from exc
        return mapping.card_facts(pm.to_dict())

    def attach_payment_method(self, payment_method_id: str, customer_id: str) -> CardFacts:
        with _stripe_boundary():
            pm = self._client.v1.payment_methods.attach(
                payment_method_id,
                {"customer": customer_id},
                options={"idempotency_key": f"attach-{payment_method_id}-{customer_id}"},
            )
        return mapping.card_facts(pm.to_dict())

    def detach_payment_method(self, payment_method_id: str) -> None:
        with _stripe_boundary():
            self._client.v1.payment_methods.detach(
                payment_method_id, options={"idempotency_key": f"detach-{payment_method_id}"}
            )

    # setup intents -----------------------------------------------------------------------
    def create_setup_intent(self, customer_id: str, idempotency_key: str) -> SetupIntentResult:
        with _stripe_boundary():
            seti = self._client.v1.setup_intents.create(
                {
                    "customer": customer_id,
                    "usage": "off_session",
                    "allowed_payment_method_types": ["card"],
                },
                options={"idempotency_key": idempotency_key},
            )
        return mapping.setup_intent_result(seti.to_dict(), with_secret=True)

    def get_setup_intent(self, setup_intent_id: str) -> SetupIntentResult:
        with _stripe_boundary():
            seti = self._client.v1.setup_intents.retrieve(setup_intent_id)
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
    ) -> PaymentIntentResult:
        # The API version stripe 16 pins (2026-10-28) refuses payment_method_types: it is
        # allowed_payment_method_types now (our localstripe launcher maps it back). localstripe
        # refuses setup_future_usage, description, receipt_email, automatic_payment_methods and
        # return_url: send none of them.
        params: stripe.params.PaymentIntentCreateParams = {
            "amount": amount_cents,
            "currency": currency,
            "payment_method": payment_method_id,
            "allowed_payment_method_types": ["card"],
            "confirm": True,
            "metadata": dict(metadata),
        }
        if customer_id:
            params["customer"] = customer_id
        try:
            pi = self._client.v1.payment_intents.create(
                params, options={"idempotency_key": idempotency_key}
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
            pi = self._client.v1.payment_intents.retrieve(pi_id)
        except stripe.StripeError as lookup_exc:
            # The decline itself is known; only the follow-up read failed.
            raise CardDeclined(message, code=code, payment_intent_id=pi_id) from lookup_exc
        return mapping.payment_intent_result(pi.to_dict(), error_code=code, error_message=message)

    def get_payment_intent(self, payment_intent_id: str) -> PaymentIntentResult:
        with _stripe_boundary():
            pi = self._client.v1.payment_intents.retrieve(payment_intent_id)
        return mapping.payment_intent_result(pi.to_dict())

    def cancel_payment_intent(
        self, payment_intent_id: str, idempotency_key: str
    ) -> PaymentIntentResult:
        with _stripe_boundary():
            pi = self._client.v1.payment_intents.cancel(
                payment_intent_id, options={"idempotency_key": idempotency_key}
            )
        return mapping.payment_intent_result(pi.to_dict())


__all__ = ["StripeGateway"]
