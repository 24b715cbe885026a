"""The ``couchpay`` command."""

from __future__ import annotations

import argparse
import logging
import socket
import sys

from couchpay.config import Config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="couchpay", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API, the webhook endpoint and the page")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    token = commands.add_parser("dev-token", help="print a local sign-in token for a user")
    token.add_argument("user_id")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="seconds it stays valid")
    args = parser.parse_args(argv)
    config = Config.from_env()
    if args.command == "dev-token":
        return _dev_token(config, args.user_id, args.ttl)
    return _serve(config, args.host, args.port)


def _dev_token(config: Config, user_id: str, ttl: int) -> int:
    from couchpay.adapters.dev_tokens import DevTokens

    if not 0 < len(user_id) <= 128:
        print("couchpay: USER_ID must be 1 to 128 characters", file=sys.stderr)
        return 2
    print(f"# token for {user_id}, valid {ttl} s; use as ws://HOST/ws?token=…", file=sys.stderr)
    print(DevTokens(config.dev_key_file).mint(user_id, ttl))
    return 0


def _serve(config: Config, host: str, port: int) -> int:
    import uvicorn

    from couchpay import bootstrap
    from couchpay.entrypoints.local_server import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
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
            lifespan="on",
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
