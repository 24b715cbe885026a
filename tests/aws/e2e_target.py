"""The end-to-end suite's ``server``, as the serverless stack (``COUCHPAY_E2E_TARGET=sls``).

The same tests talk to aws/serverless.yml on serverless-offline instead of ``couchpay serve``:
the WebSocket is API Gateway's (offline), sign-in tokens are RS256 tokens of a test user pool
whose JWKS the ``$connect`` handler fetches over HTTP, the store is DynamoDB (Amazon's DynamoDB
Local when it can run here, else moto; ``COUCHPAY_E2E_DYNAMODB=moto|local`` chooses), and Stripe
is a localstripe whose webhooks go to the stack's HTTP endpoint. There is no ``/config`` on AWS:
the Stripe API base comes from the localstripe started here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import pytest

from couchpay.offline_stripe.process import LocalStripe
from tests.aws import dynamodb_local
from tests.aws.identity import TestUserPool
from tests.aws.servers import DynamoDbLocal, LocalDynamoDb, Moto
from tests.aws.stack import SlsStack, unavailable_reason
from tests.e2e.conftest import MINTED, WEBHOOK_SECRET, Server


@dataclass
class SlsServer(Server):
    stack: SlsStack | None = field(default=None, repr=False)

    @property
    def ws_url(self) -> str:
        assert self.stack is not None
        return self.stack.ws_url

    def token(self, user_id: str, ttl: int = 600, email: str | None = None) -> str:
        assert self.stack is not None
        pool = self.stack.pool
        if email is None:
            token = pool.token(user_id, ttl)
        else:  # Cognito puts the email in id tokens
            token = pool.sign({**pool.claims(user_id, ttl, token_use="id"), "email": email})
        MINTED.append(token)
        return token


def local_dynamodb() -> LocalDynamoDb:
    wanted = os.environ.get("COUCHPAY_E2E_DYNAMODB", "local")
    if wanted == "local" and dynamodb_local.unavailable_reason() is None:
        return DynamoDbLocal()
    return Moto()


@contextmanager
def sls_server(
    workdir: os.PathLike[str] | str,
    localstripe: LocalStripe,
    stripe_api_base: str | None = None,
    params: dict[str, str] | None = None,
) -> Iterator[SlsServer]:
    """The stack on ``localstripe``; ``stripe_api_base``: a stand-in in front of it (the
    functions' Stripe; cards are still made at localstripe); ``params``: more ``--param``s."""
    from pathlib import Path

    reason = unavailable_reason()
    if reason is not None:
        pytest.fail(f"COUCHPAY_E2E_TARGET=sls: {reason}")
    with ExitStack() as stack:
        dynamodb = stack.enter_context(local_dynamodb())
        pool = stack.enter_context(TestUserPool())
        sls = SlsStack(
            Path(workdir),
            dynamodb,
            localstripe,
            pool,
            webhook_secret=WEBHOOK_SECRET,
            stripe_api_base=stripe_api_base,
            extra_params=params,
        )
        stack.enter_context(sls)
        yield SlsServer(
            url=sls.http_url,
            data_dir=Path(workdir),
            stripe_api_base=localstripe.api_base,
            log=sls.log_path,
            stack=sls,
        )
