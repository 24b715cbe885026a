"""The serverless.yml stack, run offline: serverless-offline 13 (Serverless Framework 3) running
the Python handlers from this checkout's .venv, on a local DynamoDB, with a localstripe and a
test user pool. Every server listens on 127.0.0.1.

The Stripe secrets are SecureString parameters in moto's SSM Parameter Store (the DynamoDB's own
moto, or one started for the purpose), read by the handlers exactly as on AWS (Powertools, one
GetParameters call): no offline-only path around the production one. The same moto serves the
shared line's SQS queue.

    with SlsStack(workdir, dynamodb, localstripe, pool) as stack:
        stack.ws_url, stack.http_url, stack.pool.token("fan-1")
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from couchpay.adapters.dynamodb_store import create_missing_tables
from couchpay.offline_stripe.process import LocalStripe
from tests.aws.identity import TestUserPool
from tests.aws.servers import FAKE_CREDENTIALS, REGION, LocalDynamoDb, Moto

REPO = Path(__file__).resolve().parents[2]
AWS_DIR = REPO / "aws"
SERVERLESS = AWS_DIR / "node_modules" / ".bin" / "serverless"
VENV = REPO / ".venv"
STAGE = "offline"
TABLE_PREFIX = f"couchpay-{STAGE}"  # serverless.yml: ${self:service}-${sls:stage}
STRIPE_SECRET_KEY = "sk_test_couchpay_offline"  # what localstripe and the e2e helpers use


def unavailable_reason() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not SERVERLESS.exists():
        return "serverless is not installed (npm ci in aws/)"
    if not (VENV / "bin" / "python3").exists():
        return "no .venv/bin/python3 for the Python handlers"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def sls_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Serverless without telemetry, update checks or real AWS credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STRIPE_", "SLS_"))}
    env.update(
        SLS_TELEMETRY_DISABLED="1",
        SLS_NOTIFICATIONS_MODE="off",
        SLS_DEPRECATION_DISABLE="*",
        AWS_ACCESS_KEY_ID=FAKE_CREDENTIALS["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=FAKE_CREDENTIALS["aws_secret_access_key"],
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
    )
    env.update(extra or {})
    return env


class SlsStack:
    def __init__(
        self,
        workdir: Path,
        dynamodb: LocalDynamoDb,
        localstripe: LocalStripe,
        pool: TestUserPool,
        webhook_secret: str | None = None,
        startup_timeout: float = 120.0,
        stripe_api_base: str | None = None,
        extra_params: dict[str, str] | None = None,
    ) -> None:
        """``stripe_api_base``: Stripe for the functions (default: ``localstripe``'s; a
        stand-in in front of it, for showtime); ``extra_params``: more ``--param``s."""
        self.workdir = workdir
        self.dynamodb = dynamodb
        self.localstripe = localstripe
        self.pool = pool
        self.startup_timeout = startup_timeout
        self.stripe_api_base = stripe_api_base or localstripe.api_base
        self.extra_params = dict(extra_params or {})
        self.webhook_secret = webhook_secret or f"whsec_{secrets.token_hex(16)}"
        self.http_port, self.ws_port, self.lambda_port = free_port(), free_port(), free_port()
        self.log_path = workdir / "serverless-offline.log"
        self._log: IO[str] | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._own_ssm: Moto | None = None
        self.ssm: Moto | None = dynamodb if isinstance(dynamodb, Moto) else None
        self.secret_names = {
            "stripeSecretKeyParameter": f"/couchpay/{STAGE}/{secrets.token_hex(4)}/secret-key",
            "stripeWebhookSecretParameter": f"/couchpay/{STAGE}/{secrets.token_hex(4)}/webhook",
        }

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    def params(self) -> dict[str, str]:
        return {
            **self.secret_names,
            "stripePublishableKey": "pk_test_couchpay_offline",
            "stripeApiBase": self.stripe_api_base,
            "cognitoClientId": self.pool.client_id,
            "tokenIssuer": self.pool.issuer,
            "jwksUrl": self.pool.jwks_url,
            "wsEndpoint": f"http://127.0.0.1:{self.ws_port}",  # the Management API
            # moto keeps one SQS per process: each stack's worker reads a queue of its own
            "lineQueueName": f"couchpay-{STAGE}-line-{secrets.token_hex(4)}",
            **self.extra_params,
        }

    def command(self) -> list[str]:
        command = [
            str(SERVERLESS),
            "offline",
            "--stage",
            STAGE,
            "--region",
            REGION,
            "--host",
            "127.0.0.1",
            "--httpPort",
            str(self.http_port),
            "--websocketPort",
            str(self.ws_port),
            "--lambdaPort",
            str(self.lambda_port),
            "--noPrependStageInUrl",
            "--terminateIdleLambdaTime",
            "600",
        ]
        return command + [f"--param={k}={v}" for k, v in self.params().items()]

    def _put_secrets(self) -> Moto:
        if self.ssm is None:
            self._own_ssm = self.ssm = Moto()
        self.ssm.put_secure_string(self.secret_names["stripeSecretKeyParameter"], STRIPE_SECRET_KEY)
        self.ssm.put_secure_string(
            self.secret_names["stripeWebhookSecretParameter"], self.webhook_secret
        )
        return self.ssm

    def start(self) -> Self:
        create_missing_tables(self.dynamodb.client(), TABLE_PREFIX)
        ssm = self._put_secrets()
        env = sls_env(
            {
                # The handlers run as `python3 invoke.py ...`: serverless-offline puts
                # $VIRTUAL_ENV/bin first on PATH, so that is this checkout's interpreter.
                "VIRTUAL_ENV": str(VENV),
                "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
                # boto3 in the handlers: serverless-offline passes AWS_* variables through.
                "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb.endpoint,
                "AWS_ENDPOINT_URL_SSM": ssm.endpoint,
                # The shared line's worker queue (moto's SQS), fed to the worker by
                # aws/plugins/offline-line-queue.js and written to by the functions.
                "AWS_ENDPOINT_URL_SQS": ssm.endpoint,
            }
        )
        self._log = open(self.log_path, "w")  # noqa: SIM115 - kept open for the process
        self._proc = subprocess.Popen(
            self.command(),
            cwd=AWS_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: stopped with its Python children
            preexec_fn=_stop_with_parent,  # noqa: PLW1509 - even if pytest is killed
        )
        try:
            self._wait_until_listening()
        except BaseException:
            self.stop()
            raise
        self.localstripe.register_webhook(
            "couchpay-sls", f"{self.http_url}/stripe/webhook", self.webhook_secret
        )
        return self

    def warm(self, function: str, count: int) -> None:
        """``count`` warm instances of ``function`` (an empty event each, all at once, through
        serverless-offline's Lambda Invoke API), as provisioned concurrency keeps them on AWS."""
        import concurrent.futures

        import httpx

        url = f"http://127.0.0.1:{self.lambda_port}/2015-03-31/functions/{function}/invocations"

        def invoke(_: int) -> int:
            return httpx.post(url, json={}, timeout=120).status_code

        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            codes = list(pool.map(invoke, range(count)))
        if any(code != 200 for code in codes):
            raise RuntimeError(f"warming {function}: {codes}")

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        assert self._proc is not None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"serverless offline exited:\n{self.log_text()}")
            if "Server ready" in self.log_text() and all(
                _listening(p) for p in (self.http_port, self.ws_port)
            ):
                return
            time.sleep(0.2)
        raise RuntimeError(f"serverless offline did not start in time:\n{self.log_text()}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # serverless-offline's own graceful shutdown
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # any handler process left in the group
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._own_ssm is not None:
            self._own_ssm.stop()
            self._own_ssm = self.ssm = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _stop_with_parent() -> None:
    """SIGTERM to serverless-offline when the test process dies (its handler processes then
    see their stdin close and exit)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
