"""Named points in the purchase path where the crash suite kills the process (kill -9 semantics).

Off unless COUCHPAY_FAILPOINT names a point; production never sets it. Points:
``after_claim`` (the pending record is written, Stripe not yet called), ``after_stripe`` (Stripe
answered, nothing settled yet), ``before_reply`` (settled, the reply not yet sent)."""

from __future__ import annotations

import os
import signal

POINTS = ("after_claim", "after_stripe", "before_reply")


def hit(armed: str | None, point: str) -> None:
    if armed == point:
        os.kill(os.getpid(), signal.SIGKILL)
