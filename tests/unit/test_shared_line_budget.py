"""The shared line's time budget (AWS), over the in-memory fakes: a request with too little
time left hands the purchase on instead of starting a Stripe call, and a call Stripe did not
answer is sent again at new slots (same idempotency key) while the purchase is young."""

# ruff: noqa: F811 - the shared line's fixtures are imported from test_shared_line and used
# as test parameters, which ruff reads as redefinitions.
from __future__ import annotations

from datetime import timedelta

from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.handoff import MemoryHandoff
from couchpay.service import shared_sending
from couchpay.service.context import Services
from couchpay.service.shared_line import KEY, SharedLine
from tests.unit.conftest import NOW, Call
from tests.unit.fakes import FakeGateway
from tests.unit.test_handlers import save
from tests.unit.test_shared_line import (  # noqa: F401 - fixtures
    SUCCESS,
    WallClock,
    handoff,
    line,
    places,
    pushes,
    wall,
    work_due,
)
from tests.unit.test_showtime import QUEUED, Pushes, buy

P = PurchaseStatus


def test_a_request_whose_budget_a_cold_start_ate_hands_off_instead_of_calling_stripe(
    call: Call,
    gateway: FakeGateway,
    svc: Services,
    wall: WallClock,
    line: SharedLine,
    handoff: MemoryHandoff,
    pushes: Pushes,
) -> None:
    from couchpay import time_budget

    card = save(call, gateway)
    with time_budget.within(1.0):  # less than send_at_least_seconds left
        reply = buy(call, card, "cold")
    assert reply["action"] == QUEUED and gateway.calls.count("pay") == 0
    assert [h.delay_seconds for h in handoff.handed] == [1]  # not straight back
    assert places(pushes, "cold") == []  # never told "with Stripe" before it was
    work_due(svc, handoff, wall)
    assert pushes.actions("cold")[-1] == SUCCESS and gateway.calls.count("pay") == 1


def test_a_call_stripe_did_not_answer_is_sent_again_at_new_slots_while_young(
    call: Call,
    gateway: FakeGateway,
    svc: Services,
    wall: WallClock,
    line: SharedLine,
    handoff: MemoryHandoff,
) -> None:
    card = save(call, gateway)
    line.pacer.swap(KEY, None, round((wall.epoch() + 3.0) * 1_000_000))
    tx = buy(call, card, "lost")["message"]["transactionId"]
    gateway.down = True  # Stripe does not answer
    handed = handoff.take_all()[0]
    wall.now += timedelta(seconds=3)
    outcome = shared_sending.work(svc, handed.transaction_id, handed.slot_at)
    assert outcome is not None and outcome.purchase.status is P.PENDING
    tries = gateway.calls.count("pay")
    assert tries > 1  # sent again at new slots, never failed
    assert wall.now - NOW >= timedelta(seconds=line.pace.max_wait_seconds)  # until too old
    gateway.down = False
    again = shared_sending.work(svc, handed.transaction_id, handed.slot_at)  # redelivered
    assert again is not None and again.purchase.status is P.SUCCEEDED
    assert svc.store.get_purchase(tx).status is P.SUCCEEDED  # type: ignore[union-attr]
    assert len(gateway.intents) == 1
