"""Working the admission line: the steps a runner repeats (the local server's task; a scheduled
job on AWS). Each is synchronous and short; only ``send`` calls Stripe (once). Waiting happens in
the runner, never here.

* ``send``: the purchase at the head of the line goes to Stripe; its outcome is pushed to the
  fan's open sockets (they were told ``queued``). A 429 puts it back at the front, slowed down.
* ``turn_away``: a purchase that waited longer than allowed is settled ``busy`` (nothing charged).
* ``tell_positions``: fans whose place changed hear their new position and wait;
  ``tell_user``: a fan's new socket hears it at once.
* ``reload``: after a restart, ``queued`` records rejoin the line in their order (or are settled
  ``not_charged`` when too old), so nobody who was told "you're in line" is forgotten.
* ``settle_open``: the settlement pass (reconcile) over what no line holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from couchpay.domain.errors import Busy, GatewayBusy
from couchpay.domain.purchases import Purchase
from couchpay.domain.statuses import PurchaseStatus
from couchpay.service import shared_sending
from couchpay.service.admission import Line, Ticket, Waiting
from couchpay.service.context import Services
from couchpay.service.exactly_once import PurchaseOutcome, charge, waiting
from couchpay.service.reconcile import NOT_CHARGED, ReconcileSummary, reconcile
from couchpay.service.settlement import settle_status

log = logging.getLogger(__name__)
_P = PurchaseStatus


@dataclass(frozen=True)
class SettleTimes:
    pending_after: timedelta = timedelta(minutes=5)
    """A ``pending`` purchase no line holds is settled from Stripe after this long (longer than
    any Stripe call may take, so the call has surely ended)."""
    abandon_after: timedelta = timedelta(minutes=15)
    """A 3-D Secure purchase left for this long is canceled at Stripe."""


@dataclass
class Told:
    """What each waiting fan was last told and when, so a push goes out only when the place
    changed, and at most every ``every`` seconds (but always near the front)."""

    positions: dict[str, tuple[int, float]] = field(default_factory=dict)
    every: float = 3.0
    near_front: int = 10


def _line(svc: Services) -> Line:
    if svc.line is None:
        raise RuntimeError("this service has no admission line")
    return svc.line


def send(svc: Services, entry: Waiting) -> PurchaseOutcome | None:
    """Charge the purchase the line let go; push its outcome. None when it went back (429)."""
    line = _line(svc)
    purchase = svc.store.get_purchase(entry.transaction_id)
    if purchase is None:  # cannot happen: records are never deleted
        line.done(entry.transaction_id)
        return None
    if purchase.status is _P.QUEUED:
        svc.metrics.line_wait(svc.clock() - entry.joined_at)
    try:
        outcome = charge(svc, purchase)
    except GatewayBusy:
        line.busy_again(entry)
        log.info(
            "stripe 429: %s back to the front, rate now %.1f/s", entry.transaction_id, line.rate
        )
        return None
    except BaseException:
        line.done(entry.transaction_id)
        raise
    line.done(entry.transaction_id)
    svc.notifier.purchase_settled(outcome.purchase, outcome.client_secret)
    return outcome


def turn_away(svc: Services, entry: Waiting) -> None:
    """The fan waited longer than allowed: ``busy``, final, nothing charged."""
    purchase = svc.store.get_purchase(entry.transaction_id)
    if purchase is None or purchase.status is not _P.QUEUED:
        return
    settled = settle_status(svc, purchase, _P.FAILED, Busy.code, Busy.default_message)
    svc.notifier.purchase_settled(settled)


def tell_positions(svc: Services, told: Told) -> int:
    """Push the new place of every waiting fan whose place changed; returns how many."""
    pushed = 0
    now = svc.clock()
    now_waiting = _line(svc).tickets()
    for entry, ticket in now_waiting:
        last_position, last_at = told.positions.get(entry.transaction_id, (-1, -told.every))
        due = now - last_at >= told.every or ticket.position <= told.near_front
        if ticket.position != last_position and due:
            told.positions[entry.transaction_id] = (ticket.position, now)
            _tell(svc, entry, ticket)
            pushed += 1
    waiting_ids = {entry.transaction_id for entry, _ in now_waiting}
    for gone in [tx for tx in told.positions if tx not in waiting_ids]:
        del told.positions[gone]
    return pushed


def tell_user(svc: Services, user_id: str) -> int:
    """A socket of ``user_id`` just opened (a reload, a reconnect): tell it at once where the
    user's waiting purchases stand, rather than at the line's next move. Returns how many."""
    if svc.line is None:
        return 0
    mine = [(e, t) for e, t in svc.line.tickets() if e.user_id == user_id]
    for entry, ticket in mine:
        _tell(svc, entry, ticket)
    return len(mine)


def _tell(svc: Services, entry: Waiting, ticket: Ticket) -> None:
    svc.notifier.purchase_queued(
        entry.user_id, entry.request_id, entry.transaction_id, ticket.position, ticket.eta_seconds
    )


def reload(svc: Services, limit: int = 100_000) -> int:
    """After a restart: ``queued`` records rejoin the line oldest first; too old, or no room:
    settled ``not_charged`` / ``busy``. Returns how many rejoined."""
    line = _line(svc)
    now, clock = svc.now(), svc.clock()
    max_wait = timedelta(seconds=line.settings.max_wait_seconds)
    rejoined = 0
    found = svc.store.list_unsettled_purchases(now + timedelta(seconds=1), limit)
    queued = sorted(
        (p for p in found if p.status is _P.QUEUED), key=lambda p: (p.created_at, p.transaction_id)
    )
    for purchase in queued:
        waited = now - purchase.created_at
        try:
            if waited > max_wait:
                raise Busy()
            line.join(waiting(purchase, clock - waited.total_seconds()))
            rejoined += 1
        except Busy:
            gone = settle_status(
                svc,
                purchase,
                _P.FAILED,
                NOT_CHARGED,
                "The payment service restarted before your turn; nothing was charged. "
                "Please try again.",
            )
            svc.notifier.purchase_settled(gone)
    return rejoined


def settle_open(svc: Services, times: SettleTimes) -> ReconcileSummary:
    """The settlement pass over what this process's line does not hold."""
    line = svc.line
    open_ = _measure_open(svc)
    holding: Callable[[str], bool] = lambda tx: False  # noqa: E731
    if line is not None:
        holding = lambda tx: line.ticket(tx) is not None  # noqa: E731
    elif svc.shared_line is not None:  # AWS: the shared line's worker owns what it holds
        owned = {p.transaction_id for p in open_ if shared_sending.held(svc, p)}
        holding = owned.__contains__
    return reconcile(
        svc,
        older_than=min(times.pending_after, times.abandon_after),
        abandon_after=times.abandon_after,
        holding=holding,
    )


def _measure_open(svc: Services) -> list[Purchase]:
    now = svc.now()
    open_ = svc.store.list_unsettled_purchases(now, 100_000)
    oldest = min((p.created_at for p in open_), default=now)
    svc.metrics.open_purchases(len(open_), (now - oldest).total_seconds())
    return open_
