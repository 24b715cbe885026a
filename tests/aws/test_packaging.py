"""aws/serverless.yml packages offline (no AWS account), and what it packages runs.

`serverless package` builds the Lambda zip with aws/build_lambda.py (through the local plugin)
and renders the CloudFormation template; the zip is then unpacked and its handlers imported by
a bare interpreter that sees nothing but the zip and the standard library."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

from couchpay.adapters import dynamodb_tables
from tests.aws.packaging import Packaged
from tests.aws.requirements import need
from tests.aws.stack import AWS_DIR, REPO, unavailable_reason

HANDLERS = ("connect", "disconnect", "default", "webhook", "line_worker")


def test_the_tables_file_is_generated_from_the_table_definitions() -> None:
    """aws/dynamodb-tables.json: `python -m couchpay.adapters.dynamodb_tables` wrote it."""
    on_disk = json.loads((AWS_DIR / "dynamodb-tables.json").read_text())
    assert on_disk == dynamodb_tables.cloudformation(), "regenerate aws/dynamodb-tables.json"


def test_lambda_requirements_match_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["aws"]
    lines = (AWS_DIR / "lambda-requirements.txt").read_text().splitlines()
    wanted = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert wanted and all(w in declared for w in wanted), (wanted, declared)


def test_serverless_package_renders_the_stack(packaged: Packaged) -> None:
    api = packaged.resources["WebsocketsApi"]["Properties"]
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"
    routes = {
        r["Properties"]["RouteKey"] for r in packaged.of_type("AWS::ApiGatewayV2::Route").values()
    }
    assert {"$connect", "$disconnect", "$default", "POST /stripe/webhook"} <= routes
    functions = packaged.of_type("AWS::Lambda::Function")
    handlers = {f["Properties"]["Handler"] for f in functions.values()}
    for name in HANDLERS:
        assert f"couchpay/entrypoints/aws_lambda/{name}.handler" in handlers
    assert "couchpay/entrypoints/aws_jobs.expire_cards" in handlers
    schedules = packaged.of_type("AWS::Events::Rule")
    assert sorted(r["Properties"]["ScheduleExpression"] for r in schedules.values()) == [
        "rate(1 day)",  # expireCards
        "rate(1 minute)",  # deliverEvents (retries; the events table's stream drives the rest)
        "rate(1 minute)",  # settlePurchases
    ]
    sources = {
        json.dumps(m["Properties"]["EventSourceArn"])
        for m in packaged.of_type("AWS::Lambda::EventSourceMapping").values()
    }
    assert sources == {  # the events table's stream (deliverEvents), the line's queue (lineWorker)
        json.dumps({"Fn::GetAtt": ["EventsTable", "StreamArn"]}),
        json.dumps({"Fn::GetAtt": ["LineQueue", "Arn"]}),
    }
    tables = packaged.of_type("AWS::DynamoDB::Table")
    assert {t["Properties"]["TableName"] for t in tables.values()} == {
        f"couchpay-ci-{t.suffix}" for t in dynamodb_tables.TABLES
    }
    ttl = tables["ConnectionsTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}
    assert tables["PurchasesTable"]["DeletionPolicy"] == "Retain"
    events = tables["EventsTable"]["Properties"]
    assert events["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}


def _actions(role: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            found |= {actions} if isinstance(actions, str) else set(actions)
    return found


def test_each_function_has_its_own_narrow_role(packaged: Packaged) -> None:
    """README, "Deploy to AWS": one role per function, only what it does; nothing scans; the
    only deletes are of a connection record or a uniqueness item (never a record); only default,
    the webhook and the settlement job read the Stripe secrets (from SSM), and no function's
    environment holds one."""
    functions = packaged.of_type("AWS::Lambda::Function")
    roles = {name: f["Properties"]["Role"]["Fn::GetAtt"][0] for name, f in functions.items()}
    assert len(set(roles.values())) == len(functions) == 8
    actions = {name: _actions(packaged.resources[role]) for name, role in roles.items()}
    logs = {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert actions["ConnectLambdaFunction"] == logs | {"dynamodb:PutItem", "dynamodb:Query"}
    assert actions["DisconnectLambdaFunction"] == logs | {"dynamodb:DeleteItem"}
    assert actions["ExpireCardsLambdaFunction"] == logs | {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",  # the uniqueness item of a card that expires
        "dynamodb:DeleteItem",
    }
    paying = (
        "DefaultLambdaFunction",
        "LineWorkerLambdaFunction",
        "StripeWebhookLambdaFunction",
        "SettlePurchasesLambdaFunction",
    )
    sending = {"sqs:GetQueueUrl", "sqs:SendMessage"}  # the shared line's hand-off
    reading = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
    assert sending <= actions["DefaultLambdaFunction"]
    assert not reading & actions["DefaultLambdaFunction"]
    assert sending | reading <= actions["LineWorkerLambdaFunction"]
    for name in set(roles) - {"DefaultLambdaFunction", "LineWorkerLambdaFunction"}:
        assert not any(a.startswith("sqs:") for a in actions[name]), name
    for name in paying:
        assert {"ssm:GetParameters", "kms:Decrypt", "execute-api:ManageConnections"} <= actions[
            name
        ]
    for name, role in roles.items():
        text = json.dumps(packaged.resources[role])
        assert '"*"' not in text, name
        assert not any(a.endswith(("*", ":Scan")) for a in actions[name]), name
        if "dynamodb:DeleteItem" in actions[name]:
            deletes = [
                st["Resource"]
                for policy in packaged.resources[role]["Properties"]["Policies"]
                for st in policy["PolicyDocument"]["Statement"]
                if "dynamodb:DeleteItem" in st["Action"]
            ]
            deleted = json.dumps(deletes)
            assert "ConnectionsTable" in deleted or "GuardsTable" in deleted
            assert not any(t in deleted for t in ("PurchasesTable", "CardsTable", "UsersTable"))
        if "ssm:GetParameters" in actions[name] and name != "DeliverEventsLambdaFunction":
            assert "/couchpay/ci/stripe-secret-key" in text
    deliver = json.dumps(packaged.resources[roles["DeliverEventsLambdaFunction"]])
    assert "/couchpay/ci/events-signing-secret" in deliver and "stripe" not in deliver
    assert actions["DeliverEventsLambdaFunction"] == logs | {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "ssm:GetParameters",
        "kms:Decrypt",
    }
    assert "EventsTable" in deliver and "PurchasesTable" not in deliver
    for f in functions.values():
        variables = (f["Properties"].get("Environment") or {}).get("Variables", {})
        assert not {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "COUCHPAY_EVENTS_SECRET"} & set(
            variables
        )
    expire = functions["ExpireCardsLambdaFunction"]["Properties"]["Environment"]["Variables"]
    assert not any(k.startswith("STRIPE") for k in expire)


def test_the_shared_lines_queue_is_encrypted_and_keeps_what_fails(packaged: Packaged) -> None:
    queues = packaged.of_type("AWS::SQS::Queue")
    line = queues["LineQueue"]["Properties"]
    assert line["QueueName"] == "couchpay-ci-line" and line["SqsManagedSseEnabled"] is True
    assert line["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["LineDeadLetterQueue", "Arn"]
    }
    assert queues["LineDeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    mappings = packaged.of_type("AWS::Lambda::EventSourceMapping").values()
    (feed,) = [m for m in mappings if "LineQueue" in json.dumps(m["Properties"]["EventSourceArn"])]
    assert feed["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert feed["Properties"]["ScalingConfig"]["MaximumConcurrency"] == 20
    worker = packaged.of_type("AWS::Lambda::Function")["LineWorkerLambdaFunction"]
    assert worker["Properties"]["ReservedConcurrentExecutions"] == 20
    assert line["VisibilityTimeout"] >= 6 * worker["Properties"]["Timeout"]


def test_the_package_holds_couchpay_and_its_dependencies(packaged: Packaged) -> None:
    with zipfile.ZipFile(packaged.zip) as zf:
        names = set(zf.namelist())
    for name in HANDLERS:
        assert f"couchpay/entrypoints/aws_lambda/{name}.py" in names
    for top in ("stripe/", "pydantic_core/", "jwt/", "cryptography/", "aws_lambda_powertools/"):
        assert any(n.startswith(top) for n in names), top
    assert not any(n.startswith(("boto3/", "botocore/", "localstripe/", "tests/")) for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_the_packaged_handlers_run_from_the_zip_alone(packaged: Packaged, tmp_path: Path) -> None:
    with zipfile.ZipFile(packaged.zip) as zf:
        zf.extractall(tmp_path / "task")
    script = f"""
import json, sys
sys.path.insert(0, {str(tmp_path / "task")!r})
import importlib
for name in {list(HANDLERS)!r}:
    importlib.import_module("couchpay.entrypoints.aws_lambda." + name)
import couchpay.wire.protocol, couchpay.bootstrap, couchpay.adapters.stripe_gateway
import couchpay.adapters.cognito_tokens, couchpay.entrypoints.webhook_endpoint
from couchpay.entrypoints.aws_lambda import connect
event = {{"requestContext": {{"connectionId": "c", "apiId": "a", "stage": "s"}}}}
print(json.dumps([connect.handler(event, None), sys.modules["stripe"].__file__]))
"""
    env = {
        "PATH": "/usr/bin:/bin",
        "COUCHPAY_DB": "dynamodb://couchpay-ci",
        "COUCHPAY_JWKS_URL": "https://cognito-idp.us-east-1.amazonaws.com/p/.well-known/jwks.json",
        "COUCHPAY_TOKEN_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/p",
        "COUCHPAY_TOKEN_AUDIENCE": "client",
    }
    run = subprocess.run(
        [sys.executable, "-S", "-I", "-c", script],  # no site-packages: only the zip
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    reply, stripe_file = json.loads(run.stdout.strip().splitlines()[-1])
    assert reply["statusCode"] == 403  # no token: refused, from the packaged code
    assert stripe_file.startswith(str(tmp_path / "task"))


def test_deploy_is_refused_without_the_stripe_key_parameter_and_the_pool() -> None:
    """The plugin's deploy checks, against a stand-in for the SSM API that knows some names."""
    need(unavailable_reason(), "node")
    script = """
const Plugin = require('./plugins/python-artifact.js');
const check = async (existing, connect, topic = 'arn:aws:sns:eu-west-1:1:oncall') => {
  const service = {
    custom: { alarmTopicArn: topic, stripeEnvironment: {
      STRIPE_SECRET_KEY_PARAMETER: '/couchpay/prod/stripe-secret-key',
      STRIPE_WEBHOOK_SECRET_PARAMETER: '/couchpay/prod/stripe-webhook-secret',
    } },
    functions: { connect: { environment: connect } },
  };
  const asked = [];
  const provider = { request: async (svc, method, params) => {
    asked.push([svc, method, params.WithDecryption]);
    return { InvalidParameters: params.Names.filter((n) => !existing.includes(n)) };
  } };
  const serverless = { classes: { Error }, service, getProvider: () => provider };
  const warnings = [];
  const log = { warning: (m) => warnings.push(m) };
  const plugin = new Plugin(serverless, {}, { log });
  try { plugin.checkSettings(); await plugin.checkSecrets(); }
  catch (e) { return [e.message, asked]; }
  return [warnings.length ? 'warned' : 'ok', asked];
};
const pool = 'https://cognito-idp.us-east-1.amazonaws.com/';
const good = { COUCHPAY_TOKEN_ISSUER: pool + 'us-east-1_Pool', COUCHPAY_TOKEN_AUDIENCE: 'client' };
const both = ['/couchpay/prod/stripe-secret-key', '/couchpay/prod/stripe-webhook-secret'];
(async () => console.log(JSON.stringify([
  await check(both, { COUCHPAY_TOKEN_ISSUER: pool, COUCHPAY_TOKEN_AUDIENCE: '' }),
  await check([], good),
  await check(both, good),
  await check([both[0]], good),
  await check(both, good, ''),
])))();
"""
    run = subprocess.run(
        ["node", "-e", script], cwd=AWS_DIR, capture_output=True, text=True, check=True
    )
    no_pool, no_key, accepted, no_webhook_secret, no_topic = json.loads(run.stdout)
    for name in ("cognitoUserPoolId", "cognitoClientId"):
        assert name in no_pool[0]
    assert "/couchpay/prod/stripe-secret-key" in no_key[0] and "SecureString" in no_key[0]
    assert accepted == ["ok", [["SSM", "getParameters", False]]]  # never decrypted
    assert no_webhook_secret[0] == "warned"
    assert no_topic[0] == "warned"


def test_the_websocket_stage_is_throttled(packaged: Packaged) -> None:
    """SECURITY.md: on AWS, API Gateway's stage throttling stands in for the per-connection
    token bucket of `couchpay serve`."""
    stage = packaged.resources["WebsocketsDeploymentStage"]["Properties"]
    settings = stage["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0


def test_every_lambda_permission_names_its_source(packaged: Packaged) -> None:
    """checkov CKV_AWS_364: no other API (nor account) may invoke the functions."""
    permissions = packaged.of_type("AWS::Lambda::Permission")
    assert len(permissions) == 7  # the schedules: 3; WebSocket: 3; webhook: 1 (a stream needs none)
    for name, permission in permissions.items():
        source = json.dumps(permission["Properties"].get("SourceArn"))
        assert "AccountId" in source or "GetAtt" in source, name
    for route in ("connect", "disconnect", "default"):
        source = permissions[f"{route.title()}LambdaPermissionWebsockets"]["Properties"]
        assert source["SourceArn"]["Fn::Sub"].endswith(f"${{WebsocketsApi}}/*/${route}")


def test_reserved_concurrency_keeps_sign_in_and_webhooks_available(packaged: Packaged) -> None:
    functions = packaged.of_type("AWS::Lambda::Function")
    reserved = {
        name: int(f["Properties"]["ReservedConcurrentExecutions"]) for name, f in functions.items()
    }
    assert all(n > 0 for n in reserved.values())
    assert sum(reserved.values()) <= 900  # the account keeps 100 unreserved of its 1,000
    assert reserved["ConnectLambdaFunction"] >= 50 and reserved["StripeWebhookLambdaFunction"] >= 20
    webhook_stage = packaged.resources["HttpApiStage"]["Properties"]["DefaultRouteSettings"]
    assert webhook_stage["ThrottlingRateLimit"] > 0 and webhook_stage["ThrottlingBurstLimit"] > 0


def test_the_alarms(packaged: Packaged) -> None:
    alarms = packaged.of_type("AWS::CloudWatch::Alarm")
    watched: set[tuple[str, str]] = set()
    for alarm in alarms.values():
        props = alarm["Properties"]
        metrics = [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
        metrics += [props] if "MetricName" in props else []
        watched |= {(m["Namespace"], m["MetricName"]) for m in metrics}
        assert props["AlarmActions"] == {
            "Fn::If": ["AlarmTopicGiven", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
        }
    assert watched == {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/ApiGateway", "5xx"),
        ("AWS/DynamoDB", "ReadThrottleEvents"),
        ("AWS/DynamoDB", "WriteThrottleEvents"),
        ("couchpay", "OldestPendingSeconds"),
        ("couchpay", "OldestPendingEventSeconds"),
    }
    assert packaged.template["Parameters"]["AlarmTopicArn"]["Type"] == "String"


def test_logs_are_kept_a_year_by_default(packaged: Packaged) -> None:
    groups = packaged.of_type("AWS::Logs::LogGroup")
    assert groups and {g["Properties"]["RetentionInDays"] for g in groups.values()} == {365}
