"""Runs after the rest of the e2e suite (file order): no secret key, sign-in token, webhook
secret or client secret appears in any log line the server wrote, nor in stored records."""

from __future__ import annotations

import re
import sqlite3

from tests.e2e.conftest import MINTED, WEBHOOK_SECRET, Fan, Server
from tests.e2e.helpers import THREE_DS, cart, save_card
from tests.figures import report
from tests.shipping import ADDRESS


async def test_no_secret_reaches_the_logs_or_the_records(server: Server, alice: Fan) -> None:
    assert server.log is not None, "the scan reads the local server's log"
    card = await save_card(server, alice.client, THREE_DS)
    three_ds = await alice.client.call(
        "purchase-request",
        {"cardId": card["uuid"], "items": await cart(alice.client), "shippingAddress": ADDRESS},
    )
    setup = await alice.client.call("create-setup-intent")
    client_secrets = [three_ds["message"]["clientSecret"], setup["message"]["clientSecret"]]
    secrets = [*MINTED, *client_secrets, WEBHOOK_SECRET, "sk_test_couchpay_offline"]
    log = server.log.read_text()
    lines = log.count("\n")
    leaked = [s for s in secrets if s in log]
    patterns = re.findall(r"_secret_[A-Za-z0-9]+|eyJ[\w-]+\.[\w-]+\.|whsec_\w+|sk_test_\w+", log)
    with sqlite3.connect(server.data_dir / "couchpay.sqlite3") as db:
        stored = " ".join(row[0] for row in db.execute("SELECT stripe_response FROM purchases"))
    in_records = [s for s in client_secrets if s in stored] + re.findall(r"_secret_\w+", stored)
    report(
        f"log scan: lines {lines}, secrets checked {len(secrets)}, leaked {len(leaked)}, "
        f"secret-shaped strings {len(patterns)}, secrets in records {len(in_records)}"
    )
    assert lines > 50, "the server logged the suite"
    assert leaked == [] and patterns == [] and in_records == []
