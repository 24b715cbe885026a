"""Run localstripe (a fake Stripe) on a free loopback port.

    python -m couchpay.offline_stripe.server [--store PATH]

localstripe's own CLI listens on every interface and pickles its whole state to the hard-coded
``/tmp/localstripe.pickle`` on every write. This launcher instead:

* binds 127.0.0.1 only, on a port the kernel picks, and prints ``LOCALSTRIPE_PORT=<port>`` as the
  one and only line on stdout once the socket is listening;
* with ``--exit-with-parent``, exits as soon as its standard input closes, so an embedded
  localstripe never outlives the process that started it;
* keeps the state in memory only, or in ``PATH`` when ``--store PATH`` is given (written
  atomically, mode 0600: localstripe keeps the full test card numbers in it);
* honours ``Idempotency-Key`` as real Stripe does (see idempotency_keys.py);
* lets a publishable key (``key=pk_...`` in the body, as Stripe.js sends it) create a
  PaymentMethod, as real Stripe does; localstripe 1.15.10 only accepts secret keys there;
* accepts ``allowed_payment_method_types`` on PaymentIntents and SetupIntents: the API version
  stripe 16 pins (2026-10-28) replaced ``payment_method_types`` with it, which localstripe
  1.15.10 does not know;
* accepts ``shipping``, ``receipt_email``, ``setup_future_usage`` and ``description`` on
  PaymentIntents, and keeps them (see payment_intent_params.py);
* has disputes, as Stripe's test mode makes them (card 4000 0000 0000 0259; see disputes.py).
* gives charges Stripe's ``outcome`` (network answer and Radar's risk level, charge_outcome.py).

Nothing happens at import time; ``main()`` does it all.
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import socket
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from couchpay.offline_stripe.charge_outcome import add_charge_outcome
from couchpay.offline_stripe.idempotency_keys import idempotency_middleware
from couchpay.offline_stripe.payment_intent_params import accept_payment_intent_params

_PUBLISHABLE_KEY_MARK = "couchpay.publishable_key"


def patch_store(store_path: Path | None) -> None:
    """Point localstripe's persistence at ``store_path``, or turn it off when None."""
    from localstripe import resources

    def try_load_from_disk(self: dict[str, Any]) -> None:
        if store_path is None:
            return
        try:
            with store_path.open("rb") as f:
                old = pickle.load(f)  # noqa: S301 - our own file, written by dump_to_disk
        except FileNotFoundError:
            return
        self.clear()
        self.update(old)

    def dump_to_disk(self: dict[str, Any]) -> None:
        if store_path is None:
            return
        fd, tmp = tempfile.mkstemp(prefix=".localstripe-", dir=store_path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(dict(self), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, store_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    resources.Store.try_load_from_disk = try_load_from_disk
    resources.Store.dump_to_disk = dump_to_disk


def accept_allowed_payment_method_types() -> None:
    """Read ``allowed_payment_method_types`` as localstripe's ``payment_method_types``."""
    from localstripe import resources
    from localstripe.errors import UserError

    def renaming(original: Callable[..., None]) -> Callable[..., None]:
        def __init__(self: object, *args: Any, **kwargs: Any) -> None:
            allowed = kwargs.pop("allowed_payment_method_types", None)
            if allowed is not None:
                if "payment_method_types" in kwargs:
                    raise UserError(400, "Bad request")
                kwargs["payment_method_types"] = allowed
            original(self, *args, **kwargs)

        return __init__

    for cls in (resources.PaymentIntent, resources.SetupIntent):
        cls.__init__ = renaming(cls.__init__)


def allow_publishable_key_for_payment_methods(server: Any) -> None:
    """``POST /v1/payment_methods`` with ``key=pk_...`` in the body counts as authenticated."""
    from aiohttp import web

    original_get_api_key = server.get_api_key

    @web.middleware
    async def publishable_key_middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if (
            request.method == "POST"
            and request.path == "/v1/payment_methods"
            and original_get_api_key(request) is None
        ):
            try:
                data = await server.get_post_data(request, remove_auth=False)
            except ValueError:
                data = None  # malformed body: localstripe answers it itself
            key = data.get("key") if isinstance(data, dict) else None
            if isinstance(key, str) and key.startswith("pk_") and len(key) > 3:
                request[_PUBLISHABLE_KEY_MARK] = key
        return await handler(request)

    def get_api_key(request: web.Request) -> str | None:
        key: str | None = original_get_api_key(request)
        return key if key is not None else request.get(_PUBLISHABLE_KEY_MARK)

    server.get_api_key = get_api_key
    server.app.middlewares.insert(0, publishable_key_middleware)


def bind_loopback() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m couchpay.offline_stripe.server")
    parser.add_argument("--store", type=Path, help="keep localstripe's state in this file")
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="exit when standard input closes (the parent died, even by kill -9)",
    )
    args = parser.parse_args(argv)
    store_path: Path | None = args.store.resolve() if args.store else None
    if store_path is not None and not store_path.parent.is_dir():
        parser.error(f"--store: no such directory: {store_path.parent}")

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    access_log = logging.getLogger("aiohttp.access")
    access_log.setLevel(logging.WARNING)

    patch_store(store_path)  # before localstripe.server is imported and anything is stored
    from aiohttp import web
    from localstripe import server

    allow_publishable_key_for_payment_methods(server)
    # right inside localstripe's error middleware, so declines (402) are kept and replayed too
    position = server.app.middlewares.index(server.error_middleware) + 1
    server.app.middlewares.insert(position, idempotency_middleware())
    accept_allowed_payment_method_types()
    accept_payment_intent_params()
    from couchpay.offline_stripe import disputes

    disputes.install(server)
    add_charge_outcome()
    server.store.try_load_from_disk()

    if args.exit_with_parent:
        threading.Thread(target=_exit_on_stdin_eof, daemon=True).start()
    sock = bind_loopback()
    port = sock.getsockname()[1]
    sys.stdout.write(f"LOCALSTRIPE_PORT={port}\n")
    sys.stdout.flush()
    web.run_app(server.app, sock=sock, print=None, access_log=access_log)


def _exit_on_stdin_eof() -> None:
    while os.read(0, 4096):  # raw fd, no buffer lock held at interpreter shutdown
        pass
    os._exit(0)  # EOF: our parent is gone


if __name__ == "__main__":
    main()
