"""`couchpay serve` and `couchpay dev-token`."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

from couchpay.config import Config


def add_commands(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the API, the webhook endpoint and the page")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    serve.set_defaults(run=_serve)
    token = commands.add_parser("dev-token", help="print a local sign-in token for a user")
    token.add_argument("user_id")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="seconds it stays valid")
    token.add_argument("--email", help="the user's email (Stripe emails receipts to it)")
    token.set_defaults(run=_dev_token)


def _dev_token(args: argparse.Namespace, config: Config) -> int:
    from couchpay.adapters.dev_tokens import DevTokens

    if not config.dev_sign_in:
        print(
            "couchpay: local sign-in is off (it is on only with no Stripe key, or with a test key"
            " and COUCHPAY_DEV_SIGN_IN=1, and never beside COUCHPAY_JWKS_URL)",
            file=sys.stderr,
        )
        return 1
    if not 0 < len(args.user_id) <= 128:
        print("couchpay: USER_ID must be 1 to 128 characters", file=sys.stderr)
        return 2
    print(
        f"# token for {args.user_id}, valid {args.ttl} s: ws://HOST/ws?token=...", file=sys.stderr
    )
    from couchpay.ports.identity import email_claim

    if args.email is not None and email_claim({"email": args.email}) is None:
        print("couchpay: --email is not a valid email address", file=sys.stderr)
        return 2
    print(DevTokens(config.dev_key_file).mint(args.user_id, args.ttl, email=args.email))
    return 0


def _serve(args: argparse.Namespace, config: Config) -> int:
    import uvicorn

    from couchpay import bootstrap, logs
    from couchpay.entrypoints.http_protocol import server_options
    from couchpay.entrypoints.local_server import create_app

    logs.configure()
    host, port = args.host, args.port
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # before we say where we are: early connections wait in the backlog
    bound_port = sock.getsockname()[1]
    runtime = bootstrap.start(config)
    url = f"http://{host}:{bound_port}"
    runtime.on_listening(url)
    mode = "offline, embedded localstripe" if config.offline else "Stripe"
    print(f"couchpay serving at {url}/ ({mode}; data in {config.data_dir})", flush=True)
    print(f"open {url}/ in a browser; WebSocket API at ws://{host}:{bound_port}/ws", flush=True)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(runtime),
            ws_max_size=1024 * 1024,
            log_level="warning",
            log_config=None,  # uvicorn's loggers go through logs.configure()'s JSON formatter
            lifespan="on",
            **server_options(config.handshake_timeout_seconds, config.max_connections),
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        runtime.close()
    return 0
