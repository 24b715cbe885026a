"""Cold start: a fresh Python process importing one Lambda handler module and building the clients
that handler builds on its first call (for ``$default`` and the webhook, reading the Stripe
secrets from SSM Parameter Store too, served by moto), against a fresh process importing
``stripe`` and ``boto3`` and building a ``stripe.StripeClient`` and a DynamoDB client alone. The
median of ``runs`` fresh processes each, interleaved; timed inside the process
(``time.perf_counter`` around the imports and the building), so interpreter start-up is left out
of both sides. The CPU time of the same span (``time.process_time``) is kept too: on a busy
machine it is the steadier figure, and each row's note gives its ratio.

The handlers build their clients lazily (``couchpay.entrypoints.aws_lambda._runtime``); here
each one's first-use builders are called, exactly those its ``handler`` calls. ``$default``
and the webhook build the whole runtime (``bootstrap.start``), which reads the catalog once
(seeding it on an empty table): that one DynamoDB query goes to a moto server on 127.0.0.1 with
the catalog already there, and is part of their figure, as is the one SSM GetParameters call.
Nothing else touches the network."""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import pkgutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.dynamodb import start_moto
from bench.report import Row, Section
from bench.servers import REPO, child_env

PACKAGE = "couchpay.entrypoints.aws_lambda"
BASELINE = """
import stripe, boto3
stripe.StripeClient("sk_test_bench")
boto3.client("dynamodb", region_name="us-east-1")
"""
_RT = f"from {PACKAGE} import _runtime\n"
# the whole runtime, and the store's and Stripe's clients in it even if it builds them lazily
# (the first frame or event may need either: this is the cold start that has to pay for both)
_SERVICES = (
    "_services = _runtime.runtime().services\n"
    "getattr(_services.store, 'client', None)\n"
    "getattr(_services.gateway, 'api_base', None)\n"
)
BUILDS = {  # what each handler builds on its first call, beyond its own import
    # the connection record is one signed HTTP PutItem (no boto3): its module and credentials
    "connect": _RT
    + "_runtime.verifier()\n_runtime.connections()\n"
    + "from couchpay.adapters import dynamodb_signed\ndynamodb_signed.Credentials.find()\n",
    "disconnect": _RT + "_runtime.connections().dynamodb\n",
    "default": _RT
    + "_runtime.connections().dynamodb\n"
    + "_runtime.connections().management('http://127.0.0.1:9/bench')\n"
    + "from couchpay.wire.protocol import handle_frame\n"
    + _SERVICES,
    "webhook": _RT
    + "from couchpay.entrypoints.webhook_endpoint import verify_webhook\n"
    + _SERVICES,
}
TARGETS = {"connect": "<= 0.5"}  # issue 15's acceptance (its first aim was 0.3x)
DEFAULT_TARGET = "<= 1.15"
LABELS = {"connect": "$connect", "disconnect": "$disconnect", "default": "$default"}
# without the Lambda package: the core a handler would need (protocol + services + clients)
CORE = """
import couchpay.wire.protocol
from couchpay import bootstrap
from couchpay.config import Config
bootstrap.build_store(Config.from_env())
bootstrap.build_gateway("sk_test_bench", None)
"""
TIMER = """
import time as _t
_t0, _c0 = _t.perf_counter(), _t.process_time()
{body}
_t1, _c1 = _t.perf_counter(), _t.process_time()
import sys as _s
_s.stdout.write(repr((_t1 - _t0, _c1 - _c0)))
"""


def handler_modules() -> list[str]:
    """The handler modules of the Lambda package (public ones), or [] when it does not exist."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except ModuleNotFoundError:
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    return sorted(
        m.name
        for m in pkgutil.iter_modules(spec.submodule_search_locations)
        if not m.name.startswith("_")
    )


def lambda_env(workdir: Path, dynamodb_endpoint: str) -> dict[str, str]:
    """What a handler reads on Lambda, pointed at loopback (only DynamoDB is ever called)."""
    return child_env(
        {
            "COUCHPAY_DATA_DIR": str(workdir / "lambda-tmp"),
            "COUCHPAY_DB": f"dynamodb://benchcold?region=us-east-1&endpoint={dynamodb_endpoint}",
            # the Stripe secrets as on AWS: SecureStrings in (moto's) SSM, read on first use
            "STRIPE_SECRET_KEY_PARAMETER": "/couchpay/bench/stripe-secret-key",
            "STRIPE_WEBHOOK_SECRET_PARAMETER": "/couchpay/bench/stripe-webhook-secret",
            "AWS_ENDPOINT_URL_SSM": dynamodb_endpoint,
            "STRIPE_API_BASE": "http://127.0.0.1:9",
            "COUCHPAY_JWKS_URL": "http://127.0.0.1:9/pool/.well-known/jwks.json",
            "COUCHPAY_TOKEN_ISSUER": "http://127.0.0.1:9/pool",
            "COUCHPAY_TOKEN_AUDIENCE": "bench-client",
            "COUCHPAY_WS_ENDPOINT": "http://127.0.0.1:9/bench",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )


def _fresh(
    body: str, env: dict[str, str], importtime: bool = False
) -> tuple[tuple[float, float], str]:
    """Run ``body`` in a fresh interpreter: ((wall seconds, CPU seconds), its stderr)."""
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c"]
    done = subprocess.run(  # noqa: S603 - our interpreter, our snippet
        [*command, TIMER.format(body=body)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"cold start snippet failed:\n{body}\n{done.stderr[-3000:]}")
    wall, cpu = ast.literal_eval(done.stdout.strip())
    return (float(wall), float(cpu)), done.stderr


def top_imports(stderr: str, count: int = 8) -> list[tuple[str, float]]:
    """The heaviest top-level imports (cumulative ms) in ``-X importtime`` output."""
    found: list[tuple[str, float]] = []
    for line in stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        cumulative, name = parts[1].strip(), parts[2].removeprefix(" ")
        if cumulative.isdigit() and not name.startswith(" "):  # nested ones count in parents
            found.append((name.strip(), int(cumulative) / 1000))
    return sorted(found, key=lambda item: -item[1])[:count]


def _seed(endpoint: str) -> None:
    """Tables and the demo catalog in the moto server, as a deployed stack would have them."""
    import boto3

    from couchpay import bootstrap
    from couchpay.adapters.dynamodb_store import (
        DynamoDbSettings,
        DynamoDbStore,
        create_missing_tables,
    )
    from couchpay.adapters.stripe_gateway import StripeGateway
    from couchpay.config import Config

    client = boto3.session.Session().client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto
    )
    create_missing_tables(client, "benchcold")
    ssm = boto3.session.Session().client(
        "ssm",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto
    )
    for name, value in (
        ("stripe-secret-key", "sk_test_bench"),
        ("stripe-webhook-secret", "whsec_bench"),
    ):
        ssm.put_parameter(
            Name=f"/couchpay/bench/{name}", Value=value, Type="SecureString", Overwrite=True
        )
    store = DynamoDbStore(DynamoDbSettings("benchcold", "us-east-1", endpoint), client=client)
    gateway = StripeGateway("sk_test_bench")
    bootstrap.build(
        Config(data_dir=Path("unused")), store=store, gateway=gateway, seed_catalog=True
    )


def measure(
    variants: dict[str, str], env: dict[str, str], runs: int, importtime: bool
) -> dict[str, Any]:
    """Each variant in ``runs`` fresh processes, round robin (plus one uncounted warm-up round
    that compiles and caches bytecode): wall and CPU milliseconds, and the heaviest imports."""
    wall: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    for r in range(runs + 1):
        for name, body in variants.items():
            (seconds, used), _ = _fresh(body, env)
            if r:
                wall[name].append(seconds * 1000)
                cpu[name].append(used * 1000)
    heaviest = {}
    if importtime:
        for name, body in variants.items():
            heaviest[name] = top_imports(_fresh(body, env, importtime=True)[1])
    return {
        "ms": {name: sorted(values) for name, values in wall.items()},
        "median_ms": {name: statistics.median(values) for name, values in wall.items()},
        "median_cpu_ms": {name: statistics.median(values) for name, values in cpu.items()},
        "heaviest_imports_ms": heaviest,
    }


def run(workdir: Path, runs: int = 9, importtime: bool = True) -> Section:
    started = time.perf_counter()
    section = Section("coldstart", details={"runs": runs})
    modules = handler_modules()
    variants: dict[str, str] = {"baseline": BASELINE}
    if modules:
        variants |= {name: f"import {PACKAGE}.{name}\n" + BUILDS.get(name, "") for name in modules}
        moto, endpoint = start_moto()
        try:
            _seed(endpoint)
            section.details |= measure(variants, lambda_env(workdir, endpoint), runs, importtime)
        finally:
            with contextlib.suppress(Exception):
                moto.stop()
    else:
        variants["core"] = CORE
        env = lambda_env(workdir, "http://127.0.0.1:9") | {"COUCHPAY_DB": ""}
        section.details |= measure(variants, env, runs, importtime)
    section.details["builds"] = {name: BUILDS.get(name, "") for name in modules}
    wall, cpu = section.details["median_ms"], section.details["median_cpu_ms"]
    for name in modules or ["core"]:
        row = Row(
            f"cold start, {LABELS.get(name, name)}"
            if modules
            else "cold start, protocol + services (no Lambda)",
            "ms",
            wall[name],
            wall["baseline"],
            TARGETS.get(name, DEFAULT_TARGET),
            group="coldstart",
            note=f"CPU time {cpu[name]:.0f} vs {cpu['baseline']:.0f} ms, "
            f"{cpu[name] / cpu['baseline']:.2f}x",
        )
        if modules and name not in BUILDS:
            row.note += "; import only: this benchmark does not know what the handler builds"
        if not modules:
            row.note += f"; {PACKAGE} does not exist yet: n/a for the handlers"
        section.rows.append(row)
    section.seconds = time.perf_counter() - started
    return section
