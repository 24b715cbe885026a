"""The baseline socket: a bare Starlette app with one WebSocket route, run by uvicorn exactly as
`couchpay serve` runs its app (same uvicorn settings, a pre-bound 127.0.0.1 socket).

    python -m bench.echo_app        # prints ECHO_PORT=<port>, then serves

Each text frame is parsed as JSON and answered with a JSON reply echoing its requestId: a
two-card wallet, the same shape and size as couchpay's ``get-user-credit-card`` reply. Nothing
else: no auth, no validation, no store, no thread hop. It is the floor couchpay stands on."""

from __future__ import annotations

import json
import socket
from typing import Any

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

CARDS: list[dict[str, Any]] = [
    {
        "id": "3f1c2a9e-7b7e-4a55-9d0e-1f2a3b4c5d6e",
        "lastFour": "4242",
        "brand": "visa",
        "expMonth": 12,
        "expYear": 2030,
        "nameOnCard": None,
        "status": "live",
        "isDefault": True,
    },
    {
        "id": "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d",
        "lastFour": "1111",
        "brand": "visa",
        "expMonth": 12,
        "expYear": 2030,
        "nameOnCard": None,
        "status": "live",
        "isDefault": False,
    },
]


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            frame = await websocket.receive_text()
            request = json.loads(frame)
            reply = {
                "action": f"{request.get('action')}-resp-success",
                "message": {"cards": CARDS},
                "requestId": request.get("requestId"),
            }
            await websocket.send_text(json.dumps(reply))
    except WebSocketDisconnect:
        return


def create_app() -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws", echo)])


def main() -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)  # as couchpay serve
    print(f"ECHO_PORT={sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(
        uvicorn.Config(create_app(), ws_max_size=1024 * 1024, log_level="warning", lifespan="on")
    )
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
