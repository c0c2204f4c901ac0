"""Prod's warm-standby API in the second region: same code, the table's replica, the one pool."""

from __future__ import annotations

import json
from typing import Dict

from harness import ACCOUNT_ID, API_ID, StackRun

from todo_platform.policies import FUNCTION, METRIC_ALARM

STANDBY = "us-west-2"
ROUTE = "aws:apigatewayv2/route:Route"


def key_arn(name: str, region: str = STANDBY) -> str:
    return f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{name}-0000-1111"


def standby_records(run: StackRun) -> list:
    return [r for r in run.records if r.name.startswith("standby-")]


def test_dev_and_staging_have_no_standby(dev: StackRun, staging: StackRun) -> None:
    for run in (dev, staging):
        assert standby_records(run) == []
        assert run.secondary_outputs == {}
        assert run.stack.api.standby is None


def test_the_standby_function_reads_the_replicas_in_its_region(prod: StackRun) -> None:
    primary = prod.named("api-function").inputs
    standby = prod.named("standby-api-function").inputs
    assert standby["region"] == STANDBY
    assert standby["name"] == primary["name"]
    assert "publish" not in standby  # no provisioned concurrency in the standby
    env, primary_env = standby["environment"]["variables"], primary["environment"]["variables"]
    # Same table name (a global table's replica), same user pool and client.
    for same in ("TABLE_NAME", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "STAGE", "AUTH_MODE"):
        assert env[same] == primary_env[same], same
    assert env["COGNITO_USER_POOL_ID"].startswith("us-east-1_")
    assert env["CURSOR_SECRET_ID"] == primary_env["CURSOR_SECRET_ID"].replace(
        ":us-east-1:", f":{STANDBY}:"
    )
    assert standby["loggingConfig"]["logGroup"] == "/aws/lambda/todo-api-handler-prod"
    group = prod.named("standby-api-logs").inputs
    assert group["region"] == STANDBY
    assert group["kmsKeyId"] == key_arn("logs-standby-key")


def test_the_standby_role_grants_the_standby_regions_resources_only(prod: StackRun) -> None:
    statements: Dict[str, dict] = {
        s["Sid"]: s
        for s in json.loads(prod.named("standby-api-policy").inputs["policy"])["Statement"]
    }
    table = f"arn:aws:dynamodb:{STANDBY}:{ACCOUNT_ID}:table/todo-app-data-prod"
    assert statements["TableItems"]["Resource"] == [table]
    assert statements["QueryTableAndIndexes"]["Resource"] == [table, f"{table}/index/*"]
    assert statements["UseTableKey"]["Resource"] == [key_arn("table-standby-key")]
    assert statements["DecryptOwnSecret"]["Resource"] == [key_arn("secrets-standby-key")]
    (secret,) = statements["ReadOwnSecret"]["Resource"]
    assert f":secretsmanager:{STANDBY}:" in secret
    assert "us-east-1" not in json.dumps(statements)


def test_the_standby_http_api_trusts_the_stages_user_pool(prod: StackRun) -> None:
    authorizer = prod.named("standby-jwt-authorizer").inputs
    primary = prod.named("jwt-authorizer").inputs
    assert authorizer["region"] == STANDBY
    assert authorizer["jwtConfiguration"] == primary["jwtConfiguration"]
    assert authorizer["jwtConfiguration"]["issuer"].startswith(
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_"
    )
    routes = {
        r.inputs["routeKey"]: r.inputs
        for r in prod.of_type(ROUTE)
        if r.inputs.get("region") == STANDBY
    }
    primary_routes = {
        r.inputs["routeKey"]: r.inputs["authorizationType"]
        for r in prod.of_type(ROUTE)
        if "region" not in r.inputs
    }
    assert {k: v["authorizationType"] for k, v in routes.items()} == primary_routes
    integration = prod.named("standby-lambda-integration").inputs
    assert integration["integrationUri"] == (
        f"arn:aws:lambda:{STANDBY}:{ACCOUNT_ID}:function:todo-api-handler-prod"
    )
    permission = prod.named("standby-api-invokes-function").inputs
    assert permission["region"] == STANDBY
    assert permission["sourceArn"] == f"arn:aws:execute-api:{STANDBY}:{ACCOUNT_ID}:{API_ID}/*/*"
    assert "qualifier" not in permission
    stage = prod.named("standby-default-stage").inputs
    assert stage["region"] == STANDBY
    assert stage["accessLogSettings"]["destinationArn"].startswith(f"arn:aws:logs:{STANDBY}:")


def test_the_standby_is_watched_in_its_region(prod: StackRun) -> None:
    standby_alarms = [a for a in prod.of_type(METRIC_ALARM) if a.inputs.get("region") == STANDBY]
    names = sorted(a.inputs["name"] for a in standby_alarms)
    assert names == sorted(
        [f"todo-api-prod-{c}" for c in ("5xx", "latency-p95", "4xx")]
        + [f"todo-api-handler-prod-{c}" for c in ("errors", "duration", "throttles")]
    )
    topic = f"arn:aws:sns:{STANDBY}:{ACCOUNT_ID}:todo-api-alerts-prod"
    for alarm in standby_alarms:
        assert alarm.inputs["alarmActions"] == [topic]
    assert prod.named("alerts-standby-topic").inputs["kmsMasterKeyId"] == key_arn(
        "alerts-standby-key"
    )
    assert prod.named("alerts-standby-email").inputs["region"] == STANDBY


def test_the_standby_function_has_no_lake_subscription_and_says_why(prod: StackRun) -> None:
    """No delivery stream runs in the standby region (README, "Logs in bronze")."""
    standby_functions = [f for f in prod.of_type(FUNCTION) if f.inputs.get("region") == STANDBY]
    assert len(standby_functions) == 1
    filters = prod.of_type("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")
    assert all("region" not in f.inputs for f in filters)


def test_prod_exports_the_standby_endpoint(prod: StackRun) -> None:
    assert prod.secondary_outputs == {
        "StandbyRegion": STANDBY,
        "StandbyApiEndpoint": f"https://{API_ID}.execute-api.{STANDBY}.amazonaws.com/",
    }
