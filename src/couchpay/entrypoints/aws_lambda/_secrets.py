"""The Stripe secrets on Lambda, from SSM Parameter Store, never from the template.

``STRIPE_SECRET_KEY_PARAMETER`` and ``STRIPE_WEBHOOK_SECRET_PARAMETER`` name two SecureString
parameters (aws/serverless.yml; README, "Deploy to AWS"); ``COUCHPAY_EVENTS_SECRET_PARAMETER``
names the event feed's signing secret (only the ``deliverEvents`` job reads it). They are read
with Powertools for AWS Lambda Parameters in one ``GetParameters`` call with decryption, once
per Lambda container (the caller, ``_runtime.runtime``, keeps the result for the container's
life: a rotated key reaches new containers; redeploy to roll every container at once). The
values go into the ``Config`` only: never into ``os.environ``, a log line or a reply.

A missing secret key is a ``ConfigError`` naming the parameter; a missing webhook secret only
leaves ``/stripe/webhook`` answering 503 until it exists (as with no secret at all). Without the
``*_PARAMETER`` names nothing is read (``$connect``, ``$disconnect``: no Powertools, no boto3).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from couchpay.config import Config, ConfigError

log = logging.getLogger("couchpay.lambda")
SECRETS = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "COUCHPAY_EVENTS_SECRET")
REQUIRED = "STRIPE_SECRET_KEY"
CACHE_SECONDS = 365 * 24 * 3600  # the caller's cache decides; Powertools' must not expire first


def parameter_names(env: dict[str, str]) -> dict[str, str]:
    """{secret variable: SSM parameter name} for each ``*_PARAMETER`` that is set."""
    named = {var: env.get(f"{var}_PARAMETER", "").strip() for var in SECRETS}
    return {var: name for var, name in named.items() if name}


def _provider(env: dict[str, str]) -> Any:
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from botocore.config import Config as BotoConfig

    from couchpay.adapters import aws_session

    client = aws_session.session().client(
        "ssm",
        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
        config=BotoConfig(
            connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3}
        ),
    )
    return SSMProvider(boto3_client=client)


def with_secrets(config: Config, env: dict[str, str]) -> Config:
    """``config`` with the secrets that ``env`` names read from SSM (unchanged if none)."""
    if not parameter_names(env):
        return config
    found = resolve(env)
    return replace(
        config,
        stripe_secret_key=found.get(REQUIRED) or None,
        stripe_webhook_secret=found.get("STRIPE_WEBHOOK_SECRET") or None,
    )


def resolve(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the named secrets filled in from SSM (a new dict; ``env`` is not changed)."""
    wanted = parameter_names(env)
    if not wanted:
        return env
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        values: dict[str, Any] = _provider(env).get_parameters_by_name(
            {name: {} for name in wanted.values()},
            decrypt=True,
            max_age=CACHE_SECONDS,
            raise_on_error=False,
        )
    except (GetParameterError, BotoCoreError, ClientError) as exc:
        raise ConfigError(f"cannot read the secrets from SSM: {type(exc).__name__}") from exc
    missing = set(values.get("_errors") or ())
    resolved = dict(env)
    for var, name in wanted.items():
        value = values.get(name)
        if name in missing or not isinstance(value, str) or not value:
            if var == REQUIRED:
                raise ConfigError(f"the SSM parameter {name} ({var}) does not exist or is empty")
            log.warning("SSM parameter %s (%s) is missing: not set", name, var)
            resolved.pop(var, None)
            continue
        resolved[var] = value
    return resolved
