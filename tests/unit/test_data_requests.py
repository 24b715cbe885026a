"""`users forget` over the fakes: a run that fails halfway is re-run to completion, an open
purchase refuses it with nothing changed, and erased data stays erased."""

from __future__ import annotations

from dataclasses import replace

import pytest

from couchpay.domain.disputes import Dispute, DisputeStatus
from couchpay.domain.errors import BadRequest, GatewayUnavailable
from couchpay.domain.personal_data import ERASED, FORGOTTEN_REQUEST
from couchpay.domain.shipping import ShippingAddress
from couchpay.domain.statuses import CardStatus, PurchaseStatus
from couchpay.service.context import Services
from couchpay.service.data_requests import export_user, forget_user
from tests.contract.store_contract import T0, make_card, make_purchase
from tests.unit.fakes import FakeGateway, MemoryStore

ADDRESS = ShippingAddress("Ada Lovelace", "12 St James's Square", "London", "SW1Y 4JH", "GB")


def _fan(store: MemoryStore, status: PurchaseStatus = PurchaseStatus.SUCCEEDED) -> None:
    store.ensure_user("alice", T0)
    store.set_stripe_customer("alice", "cus_alice")
    store.add_card(make_card())
    store.set_default_card("alice", "card-1")
    p = make_purchase(shipping_address=ADDRESS, receipt_email="alice@example.com")
    store.claim_purchase(p)
    if status is not PurchaseStatus.PENDING:
        assert store.settle_purchase(replace(p, status=status), PurchaseStatus.PENDING)


def test_a_forget_that_fails_at_stripe_is_rerun_to_completion(
    svc: Services, store: MemoryStore, gateway: FakeGateway
) -> None:
    _fan(store)
    gateway.down = True
    with pytest.raises(GatewayUnavailable):
        forget_user(svc, "alice")
    assert store.get_user("alice").stripe_customer_id == "cus_alice"  # type: ignore[union-attr]
    gateway.down = False
    done = forget_user(svc, "alice")
    assert (done.cards_erased, done.purchases_erased) == (0, 0)  # done by the first run
    assert done.stripe_customer_deleted == "cus_alice"
    assert gateway.deleted_customers == ["cus_alice"]
    user = store.get_user("alice")
    assert user is not None and user.stripe_customer_id is None and user.default_card_id is None
    card = store.get_card("card-1")
    assert card is not None and card.name_on_card is None
    assert (card.active, card.status) == (False, CardStatus.CANCELLED)
    p = store.get_purchase("tx-1")
    assert p is not None and p.receipt_email is None and p.request_hash == FORGOTTEN_REQUEST
    assert p.shipping_address == replace(
        ADDRESS, name=ERASED, line1=ERASED, city=ERASED, postal_code=ERASED
    )
    assert (p.status, p.total_cents) == (PurchaseStatus.SUCCEEDED, 25200)
    third = forget_user(svc, "alice")
    assert third.stripe_customer_deleted is None and gateway.deleted_customers == ["cus_alice"]
    assert export_user(svc, "alice")["purchases"][0]["receipt_email"] is None


def test_an_open_purchase_refuses_and_changes_nothing(
    svc: Services, store: MemoryStore, gateway: FakeGateway
) -> None:
    _fan(store, PurchaseStatus.PENDING)
    before = export_user(svc, "alice")
    with pytest.raises(BadRequest, match="still open"):
        forget_user(svc, "alice")
    assert export_user(svc, "alice") | {"exported_at": ""} == before | {"exported_at": ""}
    assert "delete_customer" not in gateway.calls


def test_an_open_dispute_refuses_and_a_closed_one_does_not(
    svc: Services, store: MemoryStore, gateway: FakeGateway
) -> None:
    _fan(store)
    paid = store.get_purchase("tx-1")
    assert paid is not None
    dispute = Dispute(
        "dp_1",
        "ch_1",
        25200,
        "usd",
        "product_not_received",
        DisputeStatus.NEEDS_RESPONSE,
        None,
        T0,
        T0,
    )
    assert store.settle_purchase(replace(paid, dispute=dispute), PurchaseStatus.SUCCEEDED)
    with pytest.raises(BadRequest, match="still open"):
        forget_user(svc, "alice")
    assert "delete_customer" not in gateway.calls
    disputed = store.get_purchase("tx-1")
    assert disputed is not None
    lost = replace(disputed, dispute=replace(dispute, status=DisputeStatus.LOST))
    assert store.settle_purchase(lost, PurchaseStatus.SUCCEEDED)
    assert forget_user(svc, "alice").purchases_erased == 1
