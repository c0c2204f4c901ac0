"""TodoApi: Cognito, the todo-api Lambda and its HTTP API, in the stage's region and the standby."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from todo_core.naming import ResourceNames
from todo_platform import iam
from todo_platform.artifacts import STANDBY_PREFIX, TODO_API, Artifacts
from todo_platform.blocks import (
    FunctionSpec,
    Placement,
    ServiceFunction,
    child,
    service_function,
    stored_secret,
)
from todo_platform.config import Settings
from todo_platform.data import StandbyKeys
from todo_platform.http_api import HttpApi, HttpApiSpec, Place, regional_http_api

#: The API Gateway authorizer has verified the token; the app reads its claims.
AUTH_MODE = "apigateway"
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
    #: The stage's keys in its second region: a warm-standby API runs there.
    standby_keys: Optional[StandbyKeys] = None


@dataclass(frozen=True)
class FunctionPlace:
    """What the API function reads, in the region it runs in."""

    table_arn: pulumi.Input[str]
    table_key_arn: pulumi.Input[str]
    cursor_secret_arn: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    region: Optional[str] = None
    prefix: str = ""


@dataclass(frozen=True)
class StandbyApi:
    """The warm standby in the second region: same code, same pool, the table's replica."""

    region: str
    service: ServiceFunction
    http: HttpApi


class TodoApi(pulumi.ComponentResource):
    """The public face: user pool and client, HTTP API, todo-api function, its secret.

    With a second region, the function and its HTTP API are declared there too
    (``standby``): they read the table's replica and the cursor key's replica,
    and trust the stage's user pool.
    """

    def __init__(
        self, name: str, args: TodoApiArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("todo:platform:TodoApi", name, None, opts)
        self._args = args
        self.user_pool = self._user_pool()
        self.user_pool_client = self._user_pool_client()
        self.cursor_secret, self.cursor_signing_secret = self._cursor_secret()
        primary = FunctionPlace(
            args.table_arn,
            args.table_key_arn,
            self.cursor_signing_secret.arn,
            args.secrets_key_arn,
            args.logs_key_arn,
        )
        self.service: ServiceFunction = self._function(primary)
        self.function = self.service.function
        self.alias = self._live_alias()
        target = self.alias or self.function
        http = self._http(Place(), self.service, target.arn, args.logs_key_arn)
        self.http_api, self.authorizer = http.api, http.authorizer
        self.integration, self.routes, self.stage = http.integration, http.routes, http.stage
        self.access_logs = http.access_logs
        self.endpoint: pulumi.Output[str] = http.endpoint
        self.standby = self._standby()
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

    def _function(self, place: FunctionPlace) -> ServiceFunction:
        args = self._args
        settings, names = args.settings, args.names
        function_settings = settings.api.function
        statements = [
            iam.allow(TABLE_ITEM_ACTIONS, [place.table_arn], sid="TableItems"),
            iam.allow(
                TABLE_QUERY_ACTIONS,
                [place.table_arn, pulumi.Output.concat(place.table_arn, "/index/*")],
                sid="QueryTableAndIndexes",
            ),
            iam.kms_user(place.table_key_arn, TABLE_KEY_ACTIONS, sid="UseTableKey"),
            *iam.secret_reader(place.cursor_secret_arn, place.secrets_key_arn),
        ]
        environment: Dict[str, pulumi.Input[str]] = {
            "STAGE": settings.stage,
            # A global table's replica has the table's name.
            "TABLE_NAME": args.table_name,
            CURSOR_SECRET_ENV: place.cursor_secret_arn,
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
            place.logs_key_arn,
            log_group_name=names.api_log_group,
            # The standby keeps no environments warm (README, "Costs").
            publish=settings.api.provisioned_concurrency > 0 and place.region is None,
            region=place.region,
            logical_prefix=place.prefix,
        )
        return service_function(self, spec, settings, args.artifacts)

    def _http(
        self,
        place: Place,
        service: ServiceFunction,
        target_arn: pulumi.Input[str],
        logs_key_arn: pulumi.Input[str],
    ) -> HttpApi:
        args = self._args
        spec = HttpApiSpec(
            place,
            pool_region=args.settings.region,
            user_pool_id=self.user_pool.id,
            client_id=self.user_pool_client.id,
            target_arn=target_arn,
            function_name=service.function.name,
            qualifier=self.alias.name if self.alias and place.region is None else None,
            logs_key_arn=logs_key_arn,
        )
        return regional_http_api(self, spec, args.settings, args.names)

    def _standby(self) -> Optional[StandbyApi]:
        """The same API in the second region, on the table's and the cursor key's replicas."""
        args = self._args
        keys = args.standby_keys
        if keys is None or not args.settings.secondary_region.standby_api:
            return None
        region, primary_region = keys.region, args.settings.region

        def in_standby_region(arn: pulumi.Input[str]) -> pulumi.Output[str]:
            # A replica's ARN is its primary's with the region swapped.
            return pulumi.Output.from_input(arn).apply(
                lambda value: value.replace(f":{primary_region}:", f":{region}:", 1)
            )

        place = FunctionPlace(
            in_standby_region(args.table_arn),
            keys.table,
            in_standby_region(self.cursor_signing_secret.arn),
            keys.secrets,
            keys.logs,
            region=region,
            prefix=STANDBY_PREFIX,
        )
        service = self._function(place)
        http = self._http(Place(STANDBY_PREFIX, region), service, service.function.arn, keys.logs)
        return StandbyApi(region, service, http)

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
