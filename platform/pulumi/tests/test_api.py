"""TodoApi: Cognito, the HTTP API and the todo-api function."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from harness import ACCOUNT_ID, API_ID, StackRun, stack_file_config

from todo_core.naming import ResourceNames
from todo_platform.api import TABLE_ITEM_ACTIONS
from todo_platform.http_api import ACCESS_LOG_FORMAT, API_METHODS
from todo_platform.policies import FUNCTION

TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/todo-app-data-{{stage}}"


def api_config(run: StackRun) -> dict:
    return stack_file_config(run.stage)["todo-platform:api"]


def test_user_pool_signs_in_by_email_with_a_password_policy(run: StackRun) -> None:
    pool = run.named("user-pool").inputs
    assert pool["name"] == f"todo-api-user-pool-{run.stage}"
    assert pool["usernameAttributes"] == ["email"]
    assert pool["autoVerifiedAttributes"] == ["email"]
    assert pool["passwordPolicy"] == {
        "minimumLength": 12,
        "requireLowercase": True,
        "requireUppercase": True,
        "requireNumbers": True,
        "requireSymbols": True,
        "temporaryPasswordValidityDays": 7,
    }
    assert pool["adminCreateUserConfig"] == {"allowAdminCreateUserOnly": True}
    assert pool["deletionProtection"] == ("ACTIVE" if run.stage == "prod" else "INACTIVE")


def test_client_has_no_secret_and_the_runbooks_auth_flows(run: StackRun) -> None:
    client = run.named("user-pool-client").inputs
    assert client["generateSecret"] is False
    assert sorted(client["explicitAuthFlows"]) == [
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_SRP_AUTH",
    ]
    assert client["userPoolId"] == run.outputs["UserPoolId"]
    assert client["preventUserExistenceErrors"] == "ENABLED"


def test_jwt_authorizer_trusts_exactly_this_pool_and_client(run: StackRun) -> None:
    authorizer = run.named("jwt-authorizer").inputs
    assert authorizer["authorizerType"] == "JWT"
    assert authorizer["identitySources"] == ["$request.header.Authorization"]
    assert authorizer["jwtConfiguration"] == {
        "issuer": f"https://cognito-idp.us-east-1.amazonaws.com/{run.outputs['UserPoolId']}",
        "audiences": [run.outputs["UserPoolClientId"]],
    }


def test_routes_health_public_api_protected(run: StackRun) -> None:
    routes = {r.inputs["routeKey"]: r.inputs for r in run.of_type("aws:apigatewayv2/route:Route")}
    expected_public = {"GET /health"} | (
        {"GET /docs", "GET /openapi.json"} if api_config(run)["publicDocs"] else set()
    )
    protected_keys = {f"{m} /api/v1/{{proxy+}}" for m in ("GET", "POST", "PUT", "PATCH", "DELETE")}
    assert set(routes) == expected_public | protected_keys
    for key in expected_public:
        assert routes[key]["authorizationType"] == "NONE"
        assert "authorizerId" not in routes[key]
    for key in protected_keys:
        assert routes[key]["authorizationType"] == "JWT"
        assert routes[key]["authorizerId"] == run.named("jwt-authorizer").inputs["name"]
    integration = run.named("lambda-integration").inputs
    assert integration["integrationType"] == "AWS_PROXY"
    assert integration["payloadFormatVersion"] == "2.0"
    # The function, or its `live` alias where provisioned concurrency keeps it warm
    # (tests/test_provisioned_concurrency.py).
    assert f":function:todo-api-handler-{run.stage}" in integration["integrationUri"]


def test_stage_throttles_and_logs_json_with_retention(run: StackRun) -> None:
    stage = run.named("default-stage").inputs
    config = api_config(run)
    assert stage["name"] == "$default"
    assert stage["autoDeploy"] is True
    assert stage["defaultRouteSettings"] == {
        "throttlingRateLimit": config["throttlingRateLimit"],
        "throttlingBurstLimit": config["throttlingBurstLimit"],
        "detailedMetricsEnabled": True,
    }
    log_format = json.loads(stage["accessLogSettings"]["format"])
    assert log_format["status"] == "$context.status"
    assert log_format["requestId"] == "$context.requestId"
    assert stage["accessLogSettings"]["format"] == ACCESS_LOG_FORMAT
    group = run.named("access-logs").inputs
    assert stage["accessLogSettings"]["destinationArn"].endswith(f"log-group:{group['name']}")
    assert (
        group["retentionInDays"]
        == stack_file_config(run.stage)["todo-platform:logs"]["retentionDays"]
    )
    assert run.outputs["ApiEndpoint"] == f"https://{API_ID}.execute-api.us-east-1.amazonaws.com/"


def test_api_function_settings_come_from_config(run: StackRun) -> None:
    fn = run.named("api-function").inputs
    config = api_config(run)["function"]
    assert fn["name"] == f"todo-api-handler-{run.stage}"
    assert fn["runtime"] == "python3.12"
    assert fn["handler"] == "todo_api.handler.lambda_handler"
    assert fn["architectures"] == ["x86_64"]
    assert fn["memorySize"] == config["memoryMb"]
    assert fn["timeout"] == config["timeoutSeconds"]
    assert fn.get("reservedConcurrentExecutions") == config["reservedConcurrency"]
    assert fn["code"].path.endswith("lambda/todo-api.zip")
    assert fn["loggingConfig"] == {
        "logFormat": "JSON",
        "logGroup": f"/aws/lambda/todo-api-handler-{run.stage}",
    }


def test_api_function_environment_is_exactly_the_contract(run: StackRun) -> None:
    env = run.named("api-function").inputs["environment"]["variables"]
    assert set(env) == {
        "STAGE",
        "TABLE_NAME",
        "CURSOR_SECRET_ID",
        "AUTH_MODE",
        "COGNITO_USER_POOL_ID",
        "COGNITO_CLIENT_ID",
        "IDEMPOTENCY_TTL_SECONDS",
        "POWERTOOLS_SERVICE_NAME",
        "LOG_LEVEL",
    }
    assert env["STAGE"] == run.stage
    assert env["TABLE_NAME"] == f"todo-app-data-{run.stage}"
    assert env["AUTH_MODE"] == "apigateway"
    assert env["COGNITO_USER_POOL_ID"] == run.outputs["UserPoolId"]
    assert env["COGNITO_CLIENT_ID"] == run.outputs["UserPoolClientId"]
    assert env["IDEMPOTENCY_TTL_SECONDS"] == "86400"
    assert env["POWERTOOLS_SERVICE_NAME"] == "todo-api"
    assert env["LOG_LEVEL"] == api_config(run)["function"]["logLevel"]
    secret = run.named("cursor-signing-secret").inputs
    assert env["CURSOR_SECRET_ID"] == (
        f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:{secret['name']}"
    )
    assert "CURSOR_SECRET" not in env  # the key itself never sits in the environment


def test_cursor_key_lives_in_secrets_manager_under_the_stage_key(run: StackRun) -> None:
    secret = run.named("cursor-signing-secret").inputs
    assert secret["name"] == names_of(run).cursor_signing_secret
    assert secret["kmsKeyId"] == f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/secrets-key-0000-1111"
    value = run.named("cursor-signing-secret-value").inputs
    # A secret in the engine's eyes (the mocks see the sealed value).
    sealed = value["secretString"]
    assert len(sealed["value"]) == run.named("cursor-secret").inputs["length"] == 64


def test_only_the_api_role_reads_the_cursor_key(run: StackRun) -> None:
    arn = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:{names_of(run).cursor_signing_secret}"
    readers = [
        r.name for r in run.of_type("aws:iam/rolePolicy:RolePolicy") if arn in r.inputs["policy"]
    ]
    assert readers == ["api-policy"]
    statements = policy_statements(run, "api-policy")
    assert statements["ReadOwnSecret"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert statements["ReadOwnSecret"]["Resource"] == [arn]
    assert statements["DecryptOwnSecret"]["Condition"] == {
        "StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}
    }


def test_cursor_secret_is_a_secret_output(dev: StackRun) -> None:
    assert dev.stack.api.cursor_secret.result.is_secret is not None


def names_of(run: StackRun) -> ResourceNames:
    return ResourceNames(run.stage, ACCOUNT_ID, "us-east-1")


def policy_statements(run: StackRun, name: str) -> dict:
    return {s["Sid"]: s for s in json.loads(run.named(name).inputs["policy"])["Statement"]}


def test_api_role_touches_only_this_table_and_its_indexes(run: StackRun) -> None:
    statements = policy_statements(run, "api-policy")
    table = TABLE_ARN.format(stage=run.stage)
    assert statements["TableItems"]["Action"] == sorted(TABLE_ITEM_ACTIONS)
    assert statements["TableItems"]["Resource"] == [table]
    assert statements["QueryTableAndIndexes"]["Action"] == ["dynamodb:Query"]
    assert statements["QueryTableAndIndexes"]["Resource"] == [table, f"{table}/index/*"]
    assert statements["UseTableKey"]["Resource"] == [
        f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/table-key-0000-1111"
    ]
    assert statements["WriteOwnLogGroup"]["Resource"] == [
        f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/lambda/todo-api-handler-{run.stage}:*"
    ]
    assert set(statements) == {
        "TableItems",
        "QueryTableAndIndexes",
        "UseTableKey",
        "WriteOwnLogGroup",
        "WriteTraces",
        "ReadOwnSecret",
        "DecryptOwnSecret",
    }
    actions = {a for s in statements.values() for a in s["Action"]}
    assert not {"dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:BatchWriteItem"} & actions


def test_only_the_http_api_may_invoke_the_function(run: StackRun) -> None:
    permission = run.named("api-invokes-function").inputs
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["sourceArn"] == f"arn:aws:execute-api:us-east-1:{ACCOUNT_ID}:{API_ID}/*/*"
    assert permission["function"] == f"todo-api-handler-{run.stage}"


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_lambda_functions_are_x86_64_python312(stage: str, stack_runs) -> None:  # type: ignore[no-untyped-def]
    for fn in stack_runs(stage).of_type(FUNCTION):
        assert fn.inputs["architectures"] == ["x86_64"]
        assert fn.inputs["runtime"] == "python3.12"
        assert fn.inputs["tracingConfig"] == {"mode": "Active"}


OPENAPI = Path(__file__).resolve().parents[3] / "services" / "todo-api" / "openapi.json"


def _openapi_operations() -> list:
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_api_operation_has_a_route_and_no_route_catches_preflight(run: StackRun) -> None:
    """Routes follow the API's OpenAPI document; no ANY/OPTIONS route, so API
    Gateway (not the JWT authorizer) answers browsers' CORS preflight."""
    routes = {r.inputs["routeKey"] for r in run.of_type("aws:apigatewayv2/route:Route")}
    for method, path, _ in _openapi_operations():
        if path.startswith("/api/v1/"):
            assert f"{method} /api/v1/{{proxy+}}" in routes, (method, path)
        else:
            assert f"{method} {path}" in routes, (method, path)
    assert not [r for r in routes if r.split(" ")[0] in ("ANY", "OPTIONS")]
    assert {m for m, p, _ in _openapi_operations() if p.startswith("/api/v1/")} == set(API_METHODS)


def test_cors_allows_the_configured_origins_and_what_the_api_uses(run: StackRun) -> None:
    origins = api_config(run)["corsAllowedOrigins"]
    api = run.named("http-api").inputs
    if not origins:
        assert "corsConfiguration" not in api
        return
    cors = api["corsConfiguration"]
    assert cors["allowOrigins"] == origins
    assert "*" not in cors["allowOrigins"]
    assert cors["allowCredentials"] is False
    assert set(cors["allowMethods"]) == set(API_METHODS)
    request_headers = {
        p["name"].lower()
        for _, _, op in _openapi_operations()
        for p in op.get("parameters", [])
        if p["in"] == "header"
    }
    assert request_headers | {"authorization", "content-type"} <= set(cors["allowHeaders"])
    response_headers = {
        h.lower()
        for _, _, op in _openapi_operations()
        for response in op.get("responses", {}).values()
        for h in response.get("headers", {})
    }
    assert response_headers | {"idempotent-replayed"} <= set(cors["exposeHeaders"])
    assert cors["maxAge"] > 0


def test_cors_is_on_in_dev_only(dev: StackRun, staging: StackRun, prod: StackRun) -> None:
    assert dev.named("http-api").inputs["corsConfiguration"]["allowOrigins"] == [
        "http://localhost:5173"
    ]
    assert "corsConfiguration" not in staging.named("http-api").inputs
    assert "corsConfiguration" not in prod.named("http-api").inputs


#: Read by Powertools and the Lambda runtime, not by the API's own settings.
RUNTIME_VARIABLES = {"POWERTOOLS_SERVICE_NAME", "LOG_LEVEL"}


def test_api_function_environment_follows_the_apis_own_declaration(run: StackRun) -> None:
    """The API declares its environment once (todo_api.settings); the program sets
    only variables it declares, and every one it requires in the deployed auth mode."""
    from todo_api.settings import environment_variables, required_fields

    env = run.named("api-function").inputs["environment"]["variables"]
    declared = environment_variables()
    assert set(env) - RUNTIME_VARIABLES <= set(declared.values())
    required = {declared[field] for field in required_fields(env["AUTH_MODE"])}
    assert required <= set(env)
    assert all(env[name] for name in required)
