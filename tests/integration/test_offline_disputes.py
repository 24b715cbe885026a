"""Disputes on the offline Stripe (our localstripe launcher) as Stripe's test mode makes them, read
through StripeGateway and driven with the official SDK, as an operator's tooling would."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import stripe

from couchpay.adapters.stripe_gateway import StripeGateway
from couchpay.domain.disputes import DisputeStatus
from couchpay.domain.errors import NotFound
from couchpay.domain.statuses import PaymentIntentStatus
from couchpay.offline_stripe.process import LocalStripe
from couchpay.ports.gateway import PaymentIntentResult
from tests import stripe_browser as browser

SECRET_KEY = "sk_test_couchpay_disputes"
DISPUTED = "4000000000000259"
NOT_RECEIVED = "4000000000002685"
VISA = "4242424242424242"


@pytest.fixture(scope="module")
def gateway(localstripe: LocalStripe) -> StripeGateway:
    return StripeGateway(SECRET_KEY, api_base=localstripe.api_base)


@pytest.fixture(scope="module")
def sdk(localstripe: LocalStripe) -> stripe.StripeClient:
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.api_base})


def pay(gateway: StripeGateway, localstripe: LocalStripe, number: str) -> PaymentIntentResult:
    pm = browser.create_payment_method(localstripe.api_base, number)
    return gateway.pay(
        amount_cents=19200,
        currency="usd",
        customer_id=None,
        payment_method_id=pm["id"],
        metadata={"transaction_id": str(uuid.uuid4())},
        idempotency_key=str(uuid.uuid4()),
    )


def dispute_of(sdk: stripe.StripeClient, pi_id: str) -> str:
    found = sdk.v1.disputes.list({"payment_intent": pi_id}).to_dict()["data"]  # type: ignore[typeddict-unknown-key]
    assert len(found) == 1, found
    return str(found[0]["id"])


def test_the_disputed_test_card_pays_and_then_its_charge_is_disputed(
    gateway: StripeGateway, localstripe: LocalStripe, sdk: stripe.StripeClient
) -> None:
    intent = pay(gateway, localstripe, DISPUTED)
    assert intent.status is PaymentIntentStatus.SUCCEEDED
    read = gateway.get_dispute(dispute_of(sdk, intent.id))
    d = read.dispute
    assert read.payment_intent_id == intent.id
    assert d.dispute_id.startswith("dp_")
    assert d.charge_id == intent.summary["latest_charge"]
    assert (d.amount_cents, d.currency, d.reason) == (19200, "usd", "fraudulent")
    assert d.status is DisputeStatus.NEEDS_RESPONSE and d.open
    assert d.evidence_due_by is not None
    days = (d.evidence_due_by - datetime.now(UTC)) / timedelta(days=1)
    assert 6.9 < days <= 7
    charge = sdk.v1.charges.retrieve(d.charge_id).to_dict()
    assert charge["disputed"] is True
    raw = sdk.v1.disputes.retrieve(d.dispute_id).to_dict()
    assert raw["object"] == "dispute" and raw["evidence_details"]["submission_count"] == 0


def test_another_card_is_not_disputed_and_the_other_reason_card_is(
    gateway: StripeGateway, localstripe: LocalStripe, sdk: stripe.StripeClient
) -> None:
    paid = pay(gateway, localstripe, VISA)
    assert sdk.v1.disputes.list({"payment_intent": paid.id}).to_dict()["data"] == []  # type: ignore[typeddict-unknown-key]
    charge = sdk.v1.charges.retrieve(str(paid.summary["latest_charge"])).to_dict()
    assert charge["disputed"] is False
    other = pay(gateway, localstripe, NOT_RECEIVED)
    assert gateway.get_dispute(dispute_of(sdk, other.id)).dispute.reason == "product_not_received"


@pytest.mark.parametrize(
    ("text", "outcome"),
    [("winning_evidence", DisputeStatus.WON), ("losing_evidence", DisputeStatus.LOST)],
)
def test_evidence_decides_as_in_stripes_test_mode(
    gateway: StripeGateway,
    localstripe: LocalStripe,
    sdk: stripe.StripeClient,
    text: str,
    outcome: DisputeStatus,
) -> None:
    dp = dispute_of(sdk, pay(gateway, localstripe, DISPUTED).id)
    sdk.v1.disputes.update(dp, {"evidence": {"product_description": "A poster"}, "submit": False})
    saved = gateway.get_dispute(dp).dispute
    assert (saved.status, saved.evidence_submissions) == (DisputeStatus.NEEDS_RESPONSE, 0)
    sdk.v1.disputes.update(dp, {"evidence": {"uncategorized_text": text}})
    closed = gateway.get_dispute(dp).dispute
    assert (closed.status, closed.evidence_submissions) == (outcome, 1)
    with pytest.raises(stripe.InvalidRequestError, match="already closed"):
        sdk.v1.disputes.update(dp, {"evidence": {"uncategorized_text": "winning_evidence"}})
    with pytest.raises(stripe.InvalidRequestError, match="already closed"):
        sdk.v1.disputes.close(dp)
    assert gateway.get_dispute(dp).dispute.status is outcome


def test_other_evidence_is_under_review_and_closing_accepts_the_loss(
    gateway: StripeGateway, localstripe: LocalStripe, sdk: stripe.StripeClient
) -> None:
    dp = dispute_of(sdk, pay(gateway, localstripe, DISPUTED).id)
    sdk.v1.disputes.update(dp, {"evidence": {"uncategorized_text": "We shipped it."}})
    assert gateway.get_dispute(dp).dispute.status is DisputeStatus.UNDER_REVIEW
    closed = sdk.v1.disputes.close(dp).to_dict()
    assert closed["status"] == "lost"
    assert gateway.get_dispute(dp).dispute.status is DisputeStatus.LOST


def test_bad_requests_are_refused_and_unknown_disputes_are_not_found(
    gateway: StripeGateway, localstripe: LocalStripe, sdk: stripe.StripeClient
) -> None:
    dp = dispute_of(sdk, pay(gateway, localstripe, DISPUTED).id)
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.disputes.update(dp, {"evidence": {"no_such_field": "x"}})  # type: ignore[typeddict-unknown-key]
    assert gateway.get_dispute(dp).dispute.status is DisputeStatus.NEEDS_RESPONSE
    with pytest.raises(NotFound):
        gateway.get_dispute(f"dp_unknown{time.time_ns()}")


def test_disputes_outlive_a_restart_of_the_offline_stripe(tmp_path: Path) -> None:
    """`couchpay offline-stripe --store PATH` keeps disputes like everything else."""
    store = tmp_path / "offline-stripe.pickle"
    with LocalStripe(store) as first:
        gateway = StripeGateway(SECRET_KEY, api_base=first.api_base)
        client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": first.api_base})
        dp = dispute_of(client, pay(gateway, first, DISPUTED).id)
        client.v1.disputes.update(dp, {"evidence": {"uncategorized_text": "winning_evidence"}})
    with LocalStripe(store) as again:
        gateway = StripeGateway(SECRET_KEY, api_base=again.api_base)
        assert gateway.get_dispute(dp).dispute.status is DisputeStatus.WON
