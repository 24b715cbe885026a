"""`couchpay offline-stripe`: the offline Stripe on its own, for operators and tests.

``couchpay serve`` with no key embeds one and stops it on exit; run this one instead when Stripe's
state must outlive couchpay (restarts, several processes, a test that kills the server) and point
couchpay at it with ``STRIPE_API_BASE``. A stock localstripe 1.15.10 will not do: it refuses the
``allowed_payment_method_types`` parameter of the API version stripe 16 pins, so every purchase
would fail (``payment_rejected``); this one adds that and Stripe's ``Idempotency-Key``.

It binds 127.0.0.1 on a free port, keeps its state in ``--store`` (default
``$COUCHPAY_DATA_DIR/offline-stripe.pickle``, mode 0600), prints ``STRIPE_API_BASE=<url>`` as the
last line of its standard output once it answers, and runs until interrupted."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from couchpay.config import Config


def add_commands(commands: Any) -> None:
    cmd = commands.add_parser(
        "offline-stripe", help="run the offline Stripe (localstripe + couchpay's shims) alone"
    )
    cmd.add_argument("--store", type=Path, help="state file (default: in COUCHPAY_DATA_DIR)")
    cmd.set_defaults(run=_run)


def _run(args: argparse.Namespace, config: Config) -> int:
    from couchpay.offline_stripe.process import LocalStripe

    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = args.store or config.data_dir / "offline-stripe.pickle"
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with LocalStripe(store_path=store) as stripe:
        print(f"# the offline Stripe, state in {store}; Ctrl-C stops it", flush=True)
        print(f"STRIPE_API_BASE={stripe.api_base}", flush=True)
        while not stop.wait(0.5):
            if not stripe.running:
                return 1
    return 0
