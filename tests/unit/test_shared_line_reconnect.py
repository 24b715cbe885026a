"""A fan waiting in the shared line (AWS) who reconnects and sends the same requestId again is
told their place, from the slot recorded on the purchase, at once, without waiting and without
a second charge; once paid, the copy gets the outcome (SPEC "B′ — showtime")."""
# ruff: noqa: F811 - the shared line's fixtures are imported from test_shared_line and used

from __future__ import annotations

from datetime import timedelta

from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.handoff import MemoryHandoff
from couchpay.service.context import Services
from couchpay.service.shared_line import KEY, SharedLine
from tests.unit.conftest import Call
from tests.unit.fakes import FakeGateway
from tests.unit.test_handlers import save
from tests.unit.test_shared_line import (  # noqa: F401 - fixtures
    SUCCESS,
    WallClock,
    handoff,
    line,
    pushes,
    wall,
    work_due,
)
from tests.unit.test_showtime import QUEUED, Pushes, buy

P = PurchaseStatus


def test_a_reconnect_keeps_the_place_in_the_shared_line(
    call: Call,
    gateway: FakeGateway,
    svc: Services,
    wall: WallClock,
    line: SharedLine,
    handoff: MemoryHandoff,
    pushes: Pushes,
) -> None:
    card = save(call, gateway)
    line.pacer.swap(KEY, None, round((wall.epoch() + 1.5) * 1_000_000))  # others are ahead
    burst = [buy(call, card, f"r{n}") for n in range(3)]
    assert [r["message"]["position"] for r in burst] == [3, 4, 5]
    tx = burst[2]["message"]["transactionId"]
    stored = svc.store.get_purchase(tx)
    assert stored is not None and stored.status is P.QUEUED and stored.line_slot_at is not None

    wall.now += timedelta(seconds=1)  # a reload a second later: two places nearer the front
    again = buy(call, card, "r2")
    assert again["action"] == QUEUED, again
    assert again["message"] == {**burst[2]["message"], "position": 3, "etaSeconds": 2}
    assert wall.slept == [] and gateway.calls.count("pay") == 0  # no wait, nothing charged

    work_due(svc, handoff, wall)
    assert buy(call, card, "r2")["action"] == SUCCESS
    assert gateway.calls.count("pay") == 3  # each fan charged once
