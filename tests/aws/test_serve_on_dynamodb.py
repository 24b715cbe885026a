"""`couchpay serve` with COUCHPAY_DB=dynamodb://...: the local server on the DynamoDB store."""

from __future__ import annotations

import subprocess
from pathlib import Path

from couchpay.adapters.dynamodb_store import DynamoDbSettings, DynamoDbStore
from couchpay.client import CouchpayClient
from couchpay.domain.catalog import DEMO_CATALOG
from tests.aws.servers import FAKE_CREDENTIALS, REGION, Moto
from tests.e2e.conftest import start_server
from tests.stripe_browser import create_payment_method


async def test_serve_runs_on_dynamodb(tmp_path: Path, moto: Moto) -> None:
    prefix = moto.new_prefix()
    env = {
        "COUCHPAY_DB": f"dynamodb://{prefix}?endpoint={moto.endpoint}&region={REGION}"
        "&create_tables=1",
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
    }
    proc, url = start_server(tmp_path, tmp_path / "server.log", env)
    try:
        api_base = (tmp_path / "localstripe.url").read_text().strip()
        from couchpay.adapters.dev_tokens import DevTokens

        token = DevTokens(tmp_path / "dev-signing.key").mint("dyna")
        async with await CouchpayClient.connect(url.replace("http", "ws", 1) + "/ws", token) as c:
            items = (await c.call("get-items"))["message"]["items"]
            pm = create_payment_method(api_base, "4242424242424242")
            saved = await c.call("create-payment-method", {"stripePayment": pm})
            assert saved["action"] == "create-payment-method-resp-success", saved
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert len(items) == len(DEMO_CATALOG)
    store = DynamoDbStore(DynamoDbSettings(prefix, REGION, moto.endpoint), client=moto.client())
    assert [c.card_id for c in store.list_cards("dyna")] == [saved["message"]["uuid"]]
    assert not (tmp_path / "couchpay.sqlite3").exists()
