"""Sending purchases through the shared line (``shared_line``): what ``$default`` and the line's
worker do with a slot. Only ``charge`` (``exactly_once``) calls Stripe.

* ``admit`` (``$default``, after the claim): take a slot. None is ``busy``: final, recorded
  ``failed``/``busy``, nothing charged. Otherwise ``deliver``.
* ``deliver``: a slot now goes to Stripe at once. A slot that this invocation can wait for
  (within ``wait_here_seconds`` and the time budget, keeping ``stripe_reserve_seconds``, or half
  of what is left if less, for the call) is waited for here: the fan is told ``queued``
  (position, eta) at once, again at least every ``tell_every_seconds``, and position 0 when it
  is sent. A slot further away is handed to
  the worker (``Handoff``, delayed until ``handoff_lead_seconds`` before the slot, or by at most
  ``hop_seconds``) and the request answers ``queued``. A queue that refuses is ``busy``, nothing
  charged.
* A 429 pushes the shared time back for everyone and the purchase takes a new slot (however far:
  it was admitted; never ``busy``), sent again with the same idempotency key. A call Stripe did
  not answer (or that the time budget did not allow) is sent again the same way, without the
  push-back, while the purchase is younger than the longest wait.
* ``work`` (the worker, one handed-off purchase): a purchase already settled or sent is left
  alone (a delivery may come twice); otherwise ``deliver`` again and push the outcome, or, handed
  on, the fan's new place.
* ``held``: what the settlement pass must leave to the line (queued or pending for less than the
  longest wait plus ``hold_grace_seconds``)."""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from datetime import UTC, datetime

from couchpay import time_budget
from couchpay.domain.errors import Busy, GatewayBusy
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PurchaseStatus
from couchpay.ports.handoff import MAX_DELAY_SECONDS, HandoffFailed
from couchpay.service.admission import Ticket
from couchpay.service.context import Services
from couchpay.service.exactly_once import PurchaseOutcome, charge
from couchpay.service.pacing import Slot, eta_seconds, position
from couchpay.service.settlement import settle_status
from couchpay.service.shared_line import SharedLine, push_back, take_slot

_P = PurchaseStatus
log = logging.getLogger(__name__)


def _line(svc: Services) -> SharedLine:
    if svc.shared_line is None:
        raise RuntimeError("this service has no shared line")
    return svc.shared_line


def _epoch(svc: Services) -> float:
    return svc.now().timestamp()


def ticket(line: SharedLine, slot_at: float, now: float) -> Ticket:
    return Ticket(max(1, position(slot_at, now, line.pace.rate)), eta_seconds(slot_at, now))


def admit(svc: Services, purchase: Purchase) -> PurchaseOutcome:
    slot = take_slot(_line(svc), lambda: _epoch(svc))
    if slot is None:
        return _busy(svc, purchase)
    return deliver(svc, purchase, slot)


def _busy(svc: Services, purchase: Purchase) -> PurchaseOutcome:
    return PurchaseOutcome(settle_status(svc, purchase, _P.FAILED, Busy.code, Busy.default_message))


def _fits_here(line: SharedLine, wait: float) -> bool:
    """Wait here (or send now): within ``wait_here_seconds``, or when handing off would gain
    nothing (the queue's delay would be 0), as long as the time budget holds the wait and the
    call (``stripe_reserve_seconds``, or half of what is left if less, and never less than
    ``send_at_least_seconds``: a cold start that ate the budget hands the purchase on instead
    of starting a Stripe call it cannot finish)."""
    left = time_budget.remaining()
    if left is not None:
        s = line.settings
        keep = max(s.send_at_least_seconds, min(s.stripe_reserve_seconds, left / 2))
        if wait + keep > left:
            return False
    return wait <= line.settings.wait_here_seconds or _delay(line, wait) < 1


def deliver(svc: Services, purchase: Purchase, slot: Slot) -> PurchaseOutcome:
    """Send at the slot (waiting here when it fits) or hand to the worker; see the module."""
    line = _line(svc)
    while True:
        now = _epoch(svc)
        wait = slot.at - now
        if wait > 0:  # it will wait (here or with the worker): a reconnect is told from this
            purchase = _remember(svc, purchase, slot.at)
        if not _fits_here(line, max(0.0, wait)):
            return _hand_off(svc, line, purchase, slot.at, now)
        if wait > 0:
            _wait_for(svc, line, purchase, slot.at)
        try:
            outcome = charge(svc, purchase)
        except GatewayBusy:
            push_back(line, lambda: _epoch(svc))
            purchase = svc.store.get_purchase(purchase.transaction_id) or purchase
            slot = take_slot(line, lambda: _epoch(svc), any_wait=True) or slot
            continue
        if not _unanswered(svc, line, outcome.purchase):
            return outcome
        purchase = outcome.purchase  # sent again at a new slot, with the same idempotency key
        slot = take_slot(line, lambda: _epoch(svc), any_wait=True) or slot


def _remember(svc: Services, purchase: Purchase, slot_at: float) -> Purchase:
    """A queued purchase records its slot (a copy of the request, from a reconnect, is told its
    place from it); the record as stored."""
    at = datetime.fromtimestamp(slot_at, UTC)
    if purchase.status is not _P.QUEUED or purchase.line_slot_at == at:
        return purchase
    slotted = replace(purchase, line_slot_at=at, updated_at=svc.now())
    if svc.store.settle_purchase(slotted, _P.QUEUED, read_at=purchase.updated_at):
        return slotted
    return svc.store.get_purchase(purchase.transaction_id) or purchase


def place_of(svc: Services, purchase: Purchase) -> Ticket | None:
    """Where a queued purchase stands in the shared line (None: not queued, or no slot yet)."""
    line = svc.shared_line
    if line is None or purchase.status is not _P.QUEUED or purchase.line_slot_at is None:
        return None
    return ticket(line, purchase.line_slot_at.timestamp(), _epoch(svc))


def _unanswered(svc: Services, line: SharedLine, purchase: Purchase) -> bool:
    """Stripe gave no answer (or there was no time left to ask): while the purchase is younger
    than the longest wait, the line sends it again (Stripe's idempotency key makes that safe:
    a payment Stripe did take comes back as it is); older, it stays ``pending`` for the
    settlement pass, as everywhere."""
    if purchase.status is not _P.PENDING or purchase.payment_intent_id:
        return False
    age = (svc.now() - purchase.created_at).total_seconds()
    return age < line.pace.max_wait_seconds


def _hand_off(
    svc: Services, line: SharedLine, purchase: Purchase, slot_at: float, now: float
) -> PurchaseOutcome:
    try:
        line.handoff.hand_off(purchase.transaction_id, slot_at, _delay(line, slot_at - now))
    except HandoffFailed:
        if purchase.status is _P.QUEUED:
            return _busy(svc, purchase)
        raise  # already admitted and sent once (a 429): the settlement pass owns it
    return PurchaseOutcome(purchase, ticket=ticket(line, slot_at, now))


def _delay(line: SharedLine, wait: float) -> int:
    """Whole seconds the queue holds a hand-off; at least 1 when the slot is already due (this
    invocation has no time left to send it: the next one should not be handed it at once)."""
    s = line.settings
    if wait <= 0:
        return 1
    return max(0, math.floor(min(wait - s.handoff_lead_seconds, s.hop_seconds, MAX_DELAY_SECONDS)))


def _wait_for(svc: Services, line: SharedLine, purchase: Purchase, slot_at: float) -> None:
    told_at: float | None = None
    every = line.settings.tell_every_seconds
    while True:
        now = _epoch(svc)
        left = slot_at - now
        if left <= 0:
            break
        if told_at is None or now - told_at >= every:
            _tell(svc, purchase, ticket(line, slot_at, now))
            told_at = now
        svc.sleep(min(left, every))
    _tell(svc, purchase, Ticket(0, 1))  # with Stripe now


def _tell(svc: Services, purchase: Purchase, where: Ticket) -> None:
    svc.notifier.purchase_queued(
        purchase.user_id,
        purchase.request_id,
        purchase.transaction_id,
        where.position,
        where.eta_seconds,
    )


def work(svc: Services, transaction_id: str, slot_at: float) -> PurchaseOutcome | None:
    """The worker's part for one handed-off purchase; None when there was nothing to do."""
    purchase = svc.store.get_purchase(transaction_id)
    if purchase is None:
        log.warning("shared line: no purchase %s here; message dropped", transaction_id)
        return None
    if purchase.status not in (_P.QUEUED, _P.PENDING):
        return None  # settled (busy, not_charged, paid...) or in 3-D Secure: nothing to send
    if purchase.payment_intent_id:
        return None  # already with Stripe: its answer, a webhook or settlement settles it
    outcome = deliver(svc, purchase, Slot(slot_at, _epoch(svc)))
    if outcome.ticket is not None:
        _tell(svc, outcome.purchase, outcome.ticket)
    else:
        svc.notifier.purchase_settled(outcome.purchase, outcome.client_secret)
    return outcome


def held(svc: Services, purchase: Purchase) -> bool:
    """The line still owns this open purchase: the settlement pass leaves it alone."""
    line = svc.shared_line
    if line is None or purchase.status not in (_P.QUEUED, _P.PENDING):
        return False
    if purchase.payment_intent_id:
        return False
    age = (svc.now() - purchase.created_at).total_seconds()
    return age <= line.pace.max_wait_seconds + line.settings.hold_grace_seconds
