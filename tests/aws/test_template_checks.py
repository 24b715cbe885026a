"""Outside validators on the packaged CloudFormation template (`serverless package`, offline).

- cfn-lint: no error and no warning; what is suppressed is suppressed in the template
  (aws/checks.yml), with its reason beside it.
- checkov: no failed check; every skipped check carries its reason (a `comment`) in the
  template. checkov pins its own boto3 and `packaging`, so it lives in its own virtualenv
  (`.venv-checkov`, made by ./scripts/test; or $COUCHPAY_CHECKOV).
- `checkov --framework serverless` reads aws/serverless.yml itself without crashing.
- detect-secrets: no finding in the template, though live-shaped Stripe secrets were in the
  packaging environment and parameters (tests/aws/packaging.py); and, so that this cannot pass
  by not looking, the same scan does flag them once they are written into a template.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.aws.packaging import FAKE_SECRET_KEY, FAKE_WEBHOOK_SECRET, Packaged
from tests.aws.requirements import need
from tests.aws.stack import AWS_DIR, REPO

BIN = Path(sys.executable).parent  # this virtualenv's cfn-lint and detect-secrets


def checkov_command() -> list[str] | None:
    for candidate in (
        os.environ.get("COUCHPAY_CHECKOV", ""),
        str(REPO / ".venv-checkov" / "bin" / "checkov"),
        shutil.which("checkov") or "",
    ):
        if candidate and Path(candidate).exists():
            return [candidate]
    return None


def run_checkov(*args: str) -> subprocess.CompletedProcess[str]:
    command = checkov_command()
    need(None if command else "not installed (./scripts/test makes .venv-checkov)", "checkov")
    assert command is not None
    return subprocess.run(
        [*command, *args, "--skip-download", "--output", "json", "--compact"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )


def test_cfn_lint_finds_nothing(packaged: Packaged) -> None:
    run = subprocess.run(
        [BIN / "cfn-lint", "--format", "json", packaged.template_path],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    findings = json.loads(run.stdout)  # "[]" when it found nothing
    assert findings == [], json.dumps(findings, indent=1)
    assert run.returncode == 0, run.stderr


def test_cfn_lint_suppressions_are_the_documented_ones(packaged: Packaged) -> None:
    ignored = packaged.template["Metadata"]["cfn-lint"]["config"]["ignore_checks"]
    assert ignored == ["W3005"]
    reasons = (AWS_DIR / "checks.yml").read_text()
    assert "W3005 " in reasons


def _checkov_results(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    try:
        report = json.loads(run.stdout)
    except ValueError:
        pytest.fail(f"checkov did not report:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    reports = report if isinstance(report, list) else [report]
    results: dict[str, list[Any]] = {"failed_checks": [], "skipped_checks": [], "passed_checks": []}
    for one in reports:
        for key, found in (one.get("results") or {}).items():
            results.setdefault(key, []).extend(found)
    return results


def test_checkov_passes_the_template_and_every_skip_says_why(packaged: Packaged) -> None:
    run = run_checkov("-f", str(packaged.template_path), "--framework", "cloudformation")
    results = _checkov_results(run)
    failed = [(c["check_id"], c["resource"]) for c in results["failed_checks"]]
    assert failed == []
    assert len(results["passed_checks"]) > 50  # it did look
    for skipped in results["skipped_checks"]:
        reason = (skipped.get("check_result") or {}).get("suppress_comment") or ""
        assert len(reason) > 20, (skipped["check_id"], skipped["resource"])
    assert run.returncode == 0, run.stderr[-3000:]


def test_checkov_reads_serverless_yml_itself() -> None:
    """`checkov -d aws --framework serverless` used to crash on the list form of `resources`."""
    run = run_checkov("-d", str(AWS_DIR), "--framework", "serverless")
    results = _checkov_results(run)
    assert results["passed_checks"], run.stderr[-3000:]
    assert results["failed_checks"] == []
    assert run.returncode == 0, run.stderr[-3000:]


# Content hashes Serverless writes (CodeSha256, and logical ids of Lambda versions and WebSocket
# deployments suffixed with a hash of the code or the routes): high-entropy by nature, not secret.
CONTENT_HASHES = (
    r'"CodeSha256": |LambdaVersion[0-9A-Za-z]{20,}"|WebsocketsDeployment[0-9A-Za-z]{20,}"'
)


def secrets_in(path: Path) -> list[dict[str, Any]]:
    """`detect-secrets scan` with its default plugins and filters."""
    run = subprocess.run(
        [BIN / "detect-secrets", "scan", "--exclude-lines", CONTENT_HASHES, path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    results: dict[str, list[dict[str, Any]]] = json.loads(run.stdout)["results"]
    return [secret for secrets in results.values() for secret in secrets]


def test_the_template_holds_no_secret(packaged: Packaged) -> None:
    text = packaged.template_path.read_text()
    assert FAKE_SECRET_KEY not in text and FAKE_WEBHOOK_SECRET not in text
    assert secrets_in(packaged.template_path) == []
    state = packaged.dir / "serverless-state.json"  # uploaded to the deployment bucket too
    assert FAKE_SECRET_KEY not in state.read_text()


def test_the_secrets_scan_flags_a_key_written_into_a_template(
    packaged: Packaged, tmp_path: Path
) -> None:
    leaky = json.loads(json.dumps(packaged.template))
    variables = leaky["Resources"]["DefaultLambdaFunction"]["Properties"]["Environment"]
    variables["Variables"]["STRIPE_SECRET_KEY"] = FAKE_SECRET_KEY
    path = tmp_path / "leaky.json"
    path.write_text(json.dumps(leaky, indent=2))
    kinds = {secret["type"] for secret in secrets_in(path)}
    assert "Stripe Access Key" in kinds
