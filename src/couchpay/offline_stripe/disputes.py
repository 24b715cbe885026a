"""Disputes for the offline Stripe, the way Stripe's test mode makes them (localstripe has none).

* A payment with the test card 4000 0000 0000 0259 succeeds, and its charge is then disputed as
  ``fraudulent`` (4000 0000 0000 2685: ``product_not_received``): a dispute ``dp_...`` in
  ``needs_response`` with the charge's amount, an evidence deadline 7 days on, and the events
  ``charge.dispute.created`` and ``charge.dispute.funds_withdrawn`` sent to the registered
  webhooks (signed, as localstripe sends all its events). Here the dispute exists as soon as the
  payment call returns; at Stripe it follows a moment later.
* ``GET /v1/disputes/{id}``, ``GET /v1/disputes`` (``charge``, ``payment_intent``, ``limit``,
  ``starting_after``), ``POST /v1/disputes/{id}`` (``evidence[...]``, ``submit``, ``metadata``)
  and ``POST /v1/disputes/{id}/close``, answering Stripe's object shape.
* Submitted evidence decides at once, as in Stripe's test mode: ``uncategorized_text`` of
  ``winning_evidence`` wins (``won``, ``funds_reinstated``), ``losing_evidence`` loses (``lost``),
  anything else is ``under_review``; ``submit=false`` only saves it. Closing (accepting) the
  dispute loses it. A closed dispute refuses further changes (400), as Stripe does.
  Every change is sent as ``charge.dispute.updated`` and, when it closes, ``charge.dispute.closed``.

Invariant: a dispute only moves forward (needs_response -> under_review -> won | lost).
Imported by ``server.main`` only, after localstripe's store is patched."""

from __future__ import annotations

import time
from typing import Any

from localstripe import resources
from localstripe.errors import UserError
from localstripe.webhooks import schedule_webhook

DISPUTED_CARDS = {"4000000000000259": "fraudulent", "4000000000002685": "product_not_received"}
EVIDENCE_DAYS = 7
EVIDENCE_FIELDS = [
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
]
CLOSED = ("won", "lost", "warning_closed")


class Dispute(resources.StripeObject):  # type: ignore[misc]
    object = "dispute"
    _id_prefix = "dp_"

    def __init__(self, charge: Any = None, reason: str = "fraudulent", **kwargs: Any) -> None:
        if kwargs or charge is None:
            raise UserError(400, "Bad request")
        super().__init__()
        self.amount = charge.amount
        self.currency = charge.currency
        self.charge = charge.id
        self.payment_intent = charge.payment_intent
        self.reason = reason
        self.status = "needs_response"
        self.evidence: dict[str, Any] = dict.fromkeys(EVIDENCE_FIELDS)
        self.evidence_details = {
            "due_by": int(time.time()) + EVIDENCE_DAYS * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        }
        self.is_charge_refundable = False
        self.balance_transactions: list[Any] = []
        self.metadata: dict[str, str] = {}

    def _emit(self, *kinds: str) -> None:
        for kind in kinds:
            schedule_webhook(resources.Event(f"charge.dispute.{kind}", self))

    @classmethod
    def _api_create(cls, **data: Any) -> Any:
        raise UserError(405, "Method Not Allowed")

    @classmethod
    def _api_delete(cls, id: str) -> Any:
        raise UserError(405, "Method Not Allowed")

    @classmethod
    def _api_update(
        cls,
        id: str,
        evidence: Any = None,
        submit: Any = None,
        metadata: Any = None,
        **kwargs: Any,
    ) -> Any:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs))
        obj = cls._api_retrieve(id)
        obj._refuse_if_closed()
        evidence = evidence or {}
        if not isinstance(evidence, dict) or set(evidence) - set(EVIDENCE_FIELDS):
            raise UserError(400, "Bad request: unknown evidence field")
        if metadata is not None and not isinstance(metadata, dict):
            raise UserError(400, "Bad request")
        obj.evidence.update({k: str(v) for k, v in evidence.items()})
        obj.metadata.update(metadata or {})
        if resources.try_convert_to_bool(submit) is not False:
            obj._submit()
        obj._emit("updated", *(("closed",) if obj.status in CLOSED else ()))
        if obj.status == "won":
            obj._emit("funds_reinstated")
        return obj

    def _submit(self) -> None:
        self.evidence_details["submission_count"] += 1
        self.evidence_details["has_evidence"] = True
        text = self.evidence.get("uncategorized_text")
        self.status = {"winning_evidence": "won", "losing_evidence": "lost"}.get(
            str(text), "under_review"
        )

    @classmethod
    def _api_close(cls, id: str, **kwargs: Any) -> Any:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs))
        obj = cls._api_retrieve(id)
        obj._refuse_if_closed()
        obj.status = "lost"  # closing is accepting the dispute
        obj._emit("updated", "closed")
        return obj

    def _refuse_if_closed(self) -> None:
        if self.status in CLOSED:
            raise UserError(400, f"This dispute is already closed ({self.status}).")

    @classmethod
    def _api_list_all(
        cls,
        url: str,
        charge: Any = None,
        payment_intent: Any = None,
        limit: Any = None,
        starting_after: Any = None,
        **kwargs: Any,
    ) -> Any:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs))
        found = super()._api_list_all(url, limit=limit, starting_after=starting_after)
        found._list = [
            d
            for d in found._list
            if charge in (None, d.charge) and payment_intent in (None, d.payment_intent)
        ]
        return found


def _dispute_after_payment(charge: Any) -> None:
    """A succeeded charge paid with a disputed test card is disputed (once)."""
    pm = resources.PaymentMethod._api_retrieve(charge.payment_method)
    reason = DISPUTED_CARDS.get(getattr(pm, "_card_number", ""))
    if reason is None or charge.status != "succeeded" or charge.disputed:
        return
    charge.disputed = True
    Dispute(charge=charge, reason=reason)._emit("created", "funds_withdrawn")


def install(server: Any) -> None:
    """Add disputes to localstripe's resources and routes (before the app starts)."""
    original = resources.Charge._trigger_payment

    def _trigger_payment(self: Any, on_success: Any = None) -> None:
        def then() -> None:
            if on_success:
                on_success()  # payment_intent.succeeded first, then the dispute, as at Stripe
            _dispute_after_payment(self)

        original(self, on_success=then)

    resources.Charge._trigger_payment = _trigger_payment
    resources.Charge.disputed = False  # Stripe's charge field, on every charge
    url = "/v1/disputes"
    router = server.app.router
    router.add_route("POST", url + "/{id}/close", server.api_extra(Dispute._api_close, url))
    router.add_route("GET", url + "/{id}", server.api_retrieve(Dispute, url))
    router.add_route("POST", url + "/{id}", server.api_update(Dispute, url))
    router.add_route("GET", url, server.api_list_all(Dispute, url))
