"""`serverless package` of aws/serverless.yml, offline (no AWS account), once per test session.

The packaging environment carries realistic-looking Stripe secrets (live-shaped, made up here),
both as environment variables and as `--param`s, the way a careless deploy would hand them over:
the secrets scan of the rendered template (tests/aws/test_template_checks.py) must find none."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.aws.stack import AWS_DIR, SERVERLESS, sls_env

STAGE = "ci"
# Shaped like live keys (detect-secrets' Stripe pattern matches them); assembled so that this
# source file itself holds no key-shaped literal.
FAKE_SECRET_KEY = "sk" + "_live_" + "51Hx9aQ2eZvKYlo2C8yTkq4Rb7mNwJ3dPfUe6sVtXa0LcGhBnMz"
FAKE_WEBHOOK_SECRET = "whsec" + "_Zx81kLm2Qp7Rt4Vw9Yb3Nc6Df0Gh5Jk1Ps8"


@dataclass
class Packaged:
    dir: Path
    template: dict[str, Any]
    zip: Path

    @property
    def template_path(self) -> Path:
        return self.dir / "cloudformation-template-update-stack.json"

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.template["Resources"])

    def of_type(self, kind: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == kind}


def package(out: Path) -> Packaged:
    secrets = {"STRIPE_SECRET_KEY": FAKE_SECRET_KEY, "STRIPE_WEBHOOK_SECRET": FAKE_WEBHOOK_SECRET}
    run = subprocess.run(
        [
            str(SERVERLESS),
            "package",
            "--stage",
            STAGE,
            "--package",
            str(out),
            f"--param=stripeSecretKey={FAKE_SECRET_KEY}",
            f"--param=stripeWebhookSecret={FAKE_WEBHOOK_SECRET}",
        ],
        cwd=AWS_DIR,
        env=sls_env(secrets),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    template = json.loads((out / "cloudformation-template-update-stack.json").read_text())
    return Packaged(out, template, out / "couchpay.zip")
