"""TodoApi: Cognito, the HTTP API with its JWT authorizer, and the todo-api Lambda."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from todo_core.naming import ResourceNames
from todo_platform import iam
from todo_platform.artifacts import TODO_API, Artifacts
from todo_platform.blocks import (
    FunctionSpec,
    Placement,
    ServiceFunction,
    child,
    log_group,
    service_function,
    stored_secret,
)
from todo_platform.config import Settings

#: The API Gateway authorizer has verified the token; the app reads its claims.
AUTH_MODE = "apigateway"
HEALTH_ROUTE = "GET /health"
API_PATH = "/api/v1/{proxy+}"
#: The methods the API serves under ``API_PATH`` (a test checks them against
#: the committed OpenAPI document). One route per method rather than ``ANY``:
#: an ``ANY`` route with the JWT authorizer would also catch browsers' CORS
#: preflight (``OPTIONS``, sent without a token) and answer it 401; with no
#: ``OPTIONS`` route, API Gateway answers preflights from the CORS settings.
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
API_ROUTES = tuple(f"{method} {API_PATH}" for method in API_METHODS)
#: Request headers a browser client may send beyond the CORS-safelisted ones.
CORS_ALLOW_HEADERS = ("authorization", "content-type", "idempotency-key", "if-match")
#: Response headers a browser client may read beyond the CORS-safelisted ones.
CORS_EXPOSE_HEADERS = ("etag", "idempotent-replayed", "location", "retry-after", "www-authenticate")
CORS_MAX_AGE_SECONDS = 600
#: Served without a token when ``api.publicDocs`` is on: they describe the API,
#: not anyone's data (FastAPI's default paths).
DOCS_ROUTES = ("GET /docs", "GET /openapi.json")
#: Items the function touches: the tasks, users, idempotency records and the
#: KPI counters. Transactions are authorised per item action, so there is no
#: separate "TransactWriteItems" permission; ConditionCheckItem covers
#: condition-only items of a transaction.
TABLE_ITEM_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
TABLE_QUERY_ACTIONS = ("dynamodb:Query",)
TABLE_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")

#: One JSON object per request in the access log.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "requestTime": "$context.requestTime",
        "ip": "$context.identity.sourceIp",
        "httpMethod": "$context.httpMethod",
        "path": "$context.path",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
        "userSub": "$context.authorizer.claims.sub",
    },
    sort_keys=True,
)


def issuer_url(region: str, user_pool_id: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.concat("https://cognito-idp.", region, ".amazonaws.com/", user_pool_id)


#: User-pool properties the CDK deployment set and AWS cannot change in place
#: (a change would replace the pool and lose its users): an adopted pool keeps them.
ADOPTED_POOL_IMMUTABLE = (
    "usernameAttributes",
    "aliasAttributes",
    "usernameConfiguration",
    "schemas",
)
#: ...and, while it is being imported, what it may have set differently.
ADOPTED_POOL_IGNORED_ON_IMPORT = (
    "passwordPolicy",
    "mfaConfiguration",
    "softwareTokenMfaConfiguration",
    "accountRecoverySetting",
    "adminCreateUserConfig",
    "autoVerifiedAttributes",
    "deletionProtection",
    "tags",
)
#: Where the function finds the cursor-signing key (the secret's ARN).
CURSOR_SECRET_ENV = "CURSOR_SECRET_ID"  # noqa: S105 - a variable's name


@dataclass(frozen=True)
class TodoApiArgs:
    settings: Settings
    names: ResourceNames
    artifacts: Artifacts
    table_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    table_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]
    #: Where the stage's secrets are replicated (its second region), if it has one.
    standby_secrets: Optional[Placement] = None


class TodoApi(pulumi.ComponentResource):
    """The public face: user pool and client, HTTP API, todo-api function, its secret."""

    def __init__(
        self, name: str, args: TodoApiArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("todo:platform:TodoApi", name, None, opts)
        self._args = args
        self.user_pool = self._user_pool()
        self.user_pool_client = self._user_pool_client()
        self.cursor_secret, self.cursor_signing_secret = self._cursor_secret()
        self.service: ServiceFunction = self._function()
        self.function = self.service.function
        self.alias = self._live_alias()
        self.http_api, self.authorizer = self._http_api()
        self.integration, self.routes = self._routes()
        self.stage = self._stage()
        aws.lambda_.Permission(
            "api-invokes-function",
            action="lambda:InvokeFunction",
            function=self.function.name,
            # Invoking an alias is authorised on the alias (its qualifier).
            qualifier=self.alias.name if self.alias else None,
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(self.http_api.execution_arn, "/*/*"),
            opts=child(self),
        )
        self.endpoint: pulumi.Output[str] = self.stage.invoke_url
        self.register_outputs(
            {
                "apiEndpoint": self.endpoint,
                "userPoolId": self.user_pool.id,
                "userPoolClientId": self.user_pool_client.id,
            }
        )

    def _user_pool_options(self) -> pulumi.ResourceOptions:
        settings = self._args.settings
        adopt = settings.adopt
        if not adopt.user_pool_id:
            return child(self, protect=settings.data.deletion_protection)
        ignored = list(ADOPTED_POOL_IMMUTABLE)
        if adopt.importing:
            ignored += ADOPTED_POOL_IGNORED_ON_IMPORT
        # The CDK pool holds real users: never replaced, never deleted.
        return child(
            self,
            protect=True,
            retain_on_delete=True,
            import_=adopt.user_pool_id if adopt.importing else None,
            ignore_changes=ignored,
        )

    def _user_pool(self) -> aws.cognito.UserPool:
        settings, names = self._args.settings, self._args.names
        cognito = settings.cognito
        return aws.cognito.UserPool(
            "user-pool",
            name=names.user_pool,
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            username_configuration=aws.cognito.UserPoolUsernameConfigurationArgs(
                case_sensitive=False
            ),
            password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                minimum_length=cognito.password_min_length,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=True,
                temporary_password_validity_days=7,
            ),
            mfa_configuration=cognito.mfa,
            software_token_mfa_configuration=(
                aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True)
                if cognito.mfa != "OFF"
                else None
            ),
            account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
                recovery_mechanisms=[
                    aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(
                        name="verified_email", priority=1
                    )
                ]
            ),
            admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(
                allow_admin_create_user_only=not cognito.self_signup
            ),
            deletion_protection="ACTIVE" if settings.data.deletion_protection else "INACTIVE",
            opts=self._user_pool_options(),
        )

    def _user_pool_client(self) -> aws.cognito.UserPoolClient:
        cognito, names = self._args.settings.cognito, self._args.names
        return aws.cognito.UserPoolClient(
            "user-pool-client",
            name=names.user_pool_client,
            user_pool_id=self.user_pool.id,
            generate_secret=False,
            # ADMIN_USER_PASSWORD_AUTH is the runbook's `admin-initiate-auth
            # --auth-flow ADMIN_NO_SRP_AUTH`; SRP is what client SDKs use.
            explicit_auth_flows=[
                "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
                "ALLOW_USER_SRP_AUTH",
            ],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            supported_identity_providers=["COGNITO"],
            id_token_validity=cognito.id_token_validity_minutes,
            access_token_validity=cognito.access_token_validity_minutes,
            refresh_token_validity=cognito.refresh_token_validity_days,
            token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
                id_token="minutes",  # noqa: S106 - units, not secrets
                access_token="minutes",  # noqa: S106
                refresh_token="days",  # noqa: S106
            ),
            opts=child(self),
        )

    def _cursor_secret(self) -> Tuple[random.RandomPassword, aws.secretsmanager.Secret]:
        """The key that signs pagination cursors, in Secrets Manager (never in the environment).

        Generated once (kept encrypted in the state); ``pulumi up --replace``
        on ``cursor-secret`` rotates it.
        """
        value = random.RandomPassword("cursor-secret", length=64, special=False, opts=child(self))
        secret = stored_secret(
            self,
            "cursor-signing",
            self._args.names.cursor_signing_secret,
            "Signs the API's pagination cursors (read by the API function only)",
            self._args.secrets_key_arn,
            value.result,
            # The standby region's API signs and checks cursors with the same key.
            replica=self._args.standby_secrets,
        )
        return value, secret

    def _function(self) -> ServiceFunction:
        args = self._args
        settings, names = args.settings, args.names
        function_settings = settings.api.function
        statements = [
            iam.allow(TABLE_ITEM_ACTIONS, [args.table_arn], sid="TableItems"),
            iam.allow(
                TABLE_QUERY_ACTIONS,
                [args.table_arn, pulumi.Output.concat(args.table_arn, "/index/*")],
                sid="QueryTableAndIndexes",
            ),
            iam.kms_user(args.table_key_arn, TABLE_KEY_ACTIONS, sid="UseTableKey"),
            *iam.secret_reader(self.cursor_signing_secret.arn, args.secrets_key_arn),
        ]
        environment: Dict[str, pulumi.Input[str]] = {
            "STAGE": settings.stage,
            "TABLE_NAME": args.table_name,
            CURSOR_SECRET_ENV: self.cursor_signing_secret.arn,
            "AUTH_MODE": AUTH_MODE,
            "COGNITO_USER_POOL_ID": self.user_pool.id,
            "COGNITO_CLIENT_ID": self.user_pool_client.id,
            "IDEMPOTENCY_TTL_SECONDS": str(settings.api.idempotency_ttl_seconds),
            "POWERTOOLS_SERVICE_NAME": TODO_API.package,
            "LOG_LEVEL": function_settings.log_level,
        }
        spec = FunctionSpec(
            TODO_API,
            names.api_function,
            function_settings,
            environment,
            statements,
            args.logs_key_arn,
            log_group_name=names.api_log_group,
            publish=settings.api.provisioned_concurrency > 0,
        )
        return service_function(self, spec, settings, args.artifacts)

    def _live_alias(self) -> Optional[aws.lambda_.Alias]:
        """With provisioned concurrency: the ``live`` alias on the latest published version.

        The integration invokes the alias, so every request lands on the
        environments kept warm for it. A service release publishes a version
        and moves the alias (both are in its release unit); Lambda then warms
        the new version before the alias switches to it.
        """
        count = self._args.settings.api.provisioned_concurrency
        if not count:
            return None
        alias = aws.lambda_.Alias(
            TODO_API.alias_logical_name,
            name=self._args.names.api_alias,
            description="What API Gateway invokes; carries the provisioned concurrency",
            function_name=self.function.name,
            function_version=self.function.version,
            opts=child(self),
        )
        self.provisioned_concurrency = aws.lambda_.ProvisionedConcurrencyConfig(
            "api-provisioned-concurrency",
            function_name=self.function.name,
            qualifier=alias.name,
            provisioned_concurrent_executions=count,
            opts=child(self),
        )
        return alias

    def _http_api(self) -> Tuple[aws.apigatewayv2.Api, aws.apigatewayv2.Authorizer]:
        settings, names = self._args.settings, self._args.names
        http_api = aws.apigatewayv2.Api(
            "http-api",
            name=names.api,
            protocol_type="HTTP",
            description=f"Todo API with Insights ({settings.stage})",
            cors_configuration=cors_configuration(settings.api.cors_allowed_origins),
            opts=child(self),
        )
        authorizer = aws.apigatewayv2.Authorizer(
            "jwt-authorizer",
            api_id=http_api.id,
            name=names.jwt_authorizer,
            authorizer_type="JWT",
            identity_sources=["$request.header.Authorization"],
            jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(
                issuer=issuer_url(settings.region, self.user_pool.id),
                audiences=[self.user_pool_client.id],
            ),
            opts=child(self),
        )
        return http_api, authorizer

    def _routes(
        self,
    ) -> Tuple[aws.apigatewayv2.Integration, Dict[str, aws.apigatewayv2.Route]]:
        integration = aws.apigatewayv2.Integration(
            "lambda-integration",
            api_id=self.http_api.id,
            integration_type="AWS_PROXY",
            integration_uri=self.alias.arn if self.alias else self.function.arn,
            integration_method="POST",
            payload_format_version="2.0",
            opts=child(self),
        )
        target = pulumi.Output.concat("integrations/", integration.id)
        public_docs = self._args.settings.api.public_docs
        public_routes = [HEALTH_ROUTE, *(DOCS_ROUTES if public_docs else ())]
        routes = {}
        for route_key in [*public_routes, *API_ROUTES]:
            protected = route_key in API_ROUTES
            routes[route_key] = aws.apigatewayv2.Route(
                _route_logical_name(route_key),
                api_id=self.http_api.id,
                route_key=route_key,
                target=target,
                authorization_type="JWT" if protected else "NONE",
                authorizer_id=self.authorizer.id if protected else None,
                opts=child(self),
            )
        return integration, routes

    def _stage(self) -> aws.apigatewayv2.Stage:
        args = self._args
        settings = args.settings
        self.access_logs = log_group(
            self, "access-logs", args.names.api_access_log_group, settings, args.logs_key_arn
        )
        return aws.apigatewayv2.Stage(
            "default-stage",
            api_id=self.http_api.id,
            name="$default",
            auto_deploy=True,
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_rate_limit=settings.api.throttling_rate_limit,
                throttling_burst_limit=settings.api.throttling_burst_limit,
                detailed_metrics_enabled=True,
            ),
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            opts=child(self, depends_on=list(self.routes.values())),
        )


def cors_configuration(
    origins: Sequence[str],
) -> Optional[aws.apigatewayv2.ApiCorsConfigurationArgs]:
    """API Gateway's CORS answer for these origins; ``None`` (no CORS) when there are none.

    Credentials (cookies) are not allowed: the API authenticates with a bearer
    token in ``Authorization``, which CORS treats as an ordinary header.
    """
    if not origins:
        return None
    return aws.apigatewayv2.ApiCorsConfigurationArgs(
        allow_origins=list(origins),
        allow_methods=list(API_METHODS),
        allow_headers=list(CORS_ALLOW_HEADERS),
        expose_headers=list(CORS_EXPOSE_HEADERS),
        max_age=CORS_MAX_AGE_SECONDS,
        allow_credentials=False,
    )


def _route_logical_name(route_key: str) -> str:
    """``GET /health`` -> ``route-get-health``.

    ``GET /api/v1/{proxy+}`` -> ``route-get-api-v1-proxy``.
    """
    cleaned = "".join(c if c.isalnum() else "-" for c in route_key.lower())
    return "route-" + "-".join(part for part in cleaned.split("-") if part)
