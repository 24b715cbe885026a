"""What warm invocations of one Lambda instance share, built on first use (never at import).

Configuration is the same environment ``couchpay serve`` reads (``Config.from_env``), with the
Lambda's writable ``/tmp`` as the data dir. On AWS the store is DynamoDB
(``COUCHPAY_DB=dynamodb://PREFIX``), sign-in is Cognito (``COUCHPAY_JWKS_URL``,
``COUCHPAY_TOKEN_ISSUER``, ``COUCHPAY_TOKEN_AUDIENCE``) and Stripe is real
(``STRIPE_SECRET_KEY``, ``STRIPE_WEBHOOK_SECRET``), read from the SSM parameters that
``STRIPE_SECRET_KEY_PARAMETER`` and ``STRIPE_WEBHOOK_SECRET_PARAMETER`` name (``_secrets``).
Replies and pushes go to ``https://{apiId}.execute-api.{region}.amazonaws.com/{stage}``, or
``COUCHPAY_WS_ENDPOINT`` when set (serverless-offline).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from couchpay.config import Config, ConfigError

if TYPE_CHECKING:
    from couchpay.adapters.aws_connections import AwsConnections
    from couchpay.bootstrap import Runtime
    from couchpay.ports.identity import TokenVerifier

log = logging.getLogger("couchpay.lambda")
API_GATEWAY_LIMIT_SECONDS = 29.0  # an integration's answer (and so our reply) must come before
REPLY_MARGIN_SECONDS = 3.0  # kept back from the work for writing down the outcome and replying
_lock = threading.RLock()
_state: dict[str, Any] = {}


def config() -> Config:
    with _lock:
        if "config" not in _state:
            env = dict(os.environ)
            env.setdefault("COUCHPAY_DATA_DIR", "/tmp/couchpay")  # noqa: S108 - Lambda's only writable dir
            loaded = Config.from_env(env)
            if not (loaded.database or "").startswith("dynamodb://"):
                raise ConfigError("COUCHPAY_DB must be dynamodb://TABLE_PREFIX on Lambda")
            _state["config"] = loaded
        found: Config = _state["config"]
        return found


def connections() -> AwsConnections:
    with _lock:
        if "connections" not in _state:
            from couchpay.adapters.aws_connections import AwsConnections
            from couchpay.adapters.dynamodb_store import DynamoDbSettings

            settings = DynamoDbSettings.from_url(config().database or "")
            _state["connections"] = AwsConnections(settings)
        found: AwsConnections = _state["connections"]
        return found


def verifier() -> TokenVerifier:
    """Cognito user-pool tokens only: Lambda has no place for a local dev key."""
    with _lock:
        if "verifier" not in _state:
            from couchpay.adapters.cognito_tokens import CognitoTokens

            c = config()
            if not (c.jwks_url and c.token_issuer and c.token_audience):
                raise ConfigError(
                    "set COUCHPAY_JWKS_URL, COUCHPAY_TOKEN_ISSUER and COUCHPAY_TOKEN_AUDIENCE"
                )
            _state["verifier"] = CognitoTokens(c.jwks_url, c.token_issuer, c.token_audience)
        found: TokenVerifier = _state["verifier"]
        return found


def runtime() -> Runtime:
    """The whole service (store, Stripe, notifier), as ``couchpay serve`` builds it."""
    with _lock:
        if "runtime" not in _state:
            from couchpay import bootstrap
            from couchpay.entrypoints.aws_lambda import _secrets

            c = _secrets.with_secrets(config(), dict(os.environ))  # once per container
            if c.offline:
                raise ConfigError("STRIPE_SECRET_KEY_PARAMETER (an SSM parameter) is required")
            from couchpay.entrypoints.aws_lambda._line import shared_line

            started = bootstrap.start(c, transport=connections(), with_line=False)
            line = shared_line(c, started.services.store)
            if line is not None:  # the line paces Stripe's calls and takes its 429s back
                started.services.shared_line = line
                started.services.gateway = bootstrap.build_gateway(
                    c.stripe_secret_key or "", started.stripe_api_base, paced=True
                )
            _state["runtime"] = started
        found: Runtime = _state["runtime"]
        return found


def stripe_write_taker() -> Callable[[str], bool]:
    """Per-user allowance of Stripe-writing actions, counted in DynamoDB (``dynamodb_limits``)."""
    with _lock:
        if "stripe_writes" not in _state:
            from couchpay.adapters.dynamodb_limits import stripe_write_taker as taker
            from couchpay.adapters.dynamodb_store import DynamoDbStore

            store = runtime().services.store
            if not isinstance(store, DynamoDbStore):
                raise ConfigError("COUCHPAY_DB must be dynamodb://TABLE_PREFIX on Lambda")
            _state["stripe_writes"] = taker(store, config().stripe_writes_per_minute)
        found: Callable[[str], bool] = _state["stripe_writes"]
        return found


def budget_seconds(context: Any) -> float:
    """How long the work of this invocation may take: the time Lambda says is left (never more
    than API Gateway's 29 s), less the margin to reply. Used as ``time_budget.within(...)``,
    read after a cold start has built the runtime (the context's clock has counted that too).
    serverless-offline's Python context always counts down from 6 s, whatever the timeout."""
    left = API_GATEWAY_LIMIT_SECONDS
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining_ms):
        left = min(left, remaining_ms() / 1000)
    return max(0.0, left - REPLY_MARGIN_SECONDS)


def management_endpoint(request_context: dict[str, Any]) -> str:
    """Where replies to this connection's API stage go (the Management API endpoint)."""
    override = os.environ.get("COUCHPAY_WS_ENDPOINT", "").strip()
    if override:
        return override.rstrip("/")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    api_id, stage = request_context["apiId"], request_context["stage"]
    return f"https://{api_id}.execute-api.{region}.amazonaws.com/{stage}"


def reset() -> None:
    """Forget everything (tests; a new configuration)."""
    with _lock:
        runtime_ = _state.pop("runtime", None)
        _state.clear()
    if runtime_ is not None:
        runtime_.close()
