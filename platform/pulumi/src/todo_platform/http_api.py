"""One region's HTTP API in front of the todo-api function: authorizer, routes, stage.

The stage's region and its second region (the warm standby) each get one,
declared by :class:`todo_platform.api.TodoApi` through :func:`regional_http_api`
with a :class:`Place`: logical names are prefixed (``standby-...``) so both can
live in one stack, and every resource carries its region. Both trust the one
user pool (README, "Cognito and failover").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Dict, Optional, Sequence

import pulumi
import pulumi_aws as aws

from todo_core.naming import ResourceNames
from todo_platform.blocks import child, log_group
from todo_platform.config import Settings

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


@dataclass(frozen=True)
class Place:
    """Where one copy of the API lives: ``region`` ``None`` is the stage's own."""

    prefix: str = ""
    region: Optional[str] = None

    def key(self, logical_name: str) -> str:
        return self.prefix + logical_name


@dataclass(frozen=True)
class HttpApiSpec:
    """What one region's HTTP API is built from."""

    place: Place
    #: The user pool's region and ids: the stage's, in both regions.
    pool_region: str
    user_pool_id: pulumi.Input[str]
    client_id: pulumi.Input[str]
    #: The function's (or its alias's) ARN and name, and the alias name if any.
    target_arn: pulumi.Input[str]
    function_name: pulumi.Input[str]
    qualifier: Optional[pulumi.Input[str]]
    logs_key_arn: pulumi.Input[str]


@dataclass(frozen=True)
class HttpApi:
    api: aws.apigatewayv2.Api
    authorizer: aws.apigatewayv2.Authorizer
    integration: aws.apigatewayv2.Integration
    routes: Dict[str, aws.apigatewayv2.Route]
    stage: aws.apigatewayv2.Stage
    access_logs: aws.cloudwatch.LogGroup

    @property
    def endpoint(self) -> pulumi.Output[str]:
        return self.stage.invoke_url


def regional_http_api(
    parent: pulumi.Resource, spec: HttpApiSpec, settings: Settings, names: ResourceNames
) -> HttpApi:
    """The HTTP API, JWT authorizer, routes, ``$default`` stage and invoke permission."""
    place = spec.place
    api = aws.apigatewayv2.Api(
        place.key("http-api"),
        name=names.api,
        protocol_type="HTTP",
        description=f"Todo API with Insights ({settings.stage})",
        cors_configuration=cors_configuration(settings.api.cors_allowed_origins),
        region=place.region,
        opts=child(parent),
    )
    authorizer = aws.apigatewayv2.Authorizer(
        place.key("jwt-authorizer"),
        api_id=api.id,
        name=names.jwt_authorizer,
        authorizer_type="JWT",
        identity_sources=["$request.header.Authorization"],
        jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(
            issuer=issuer_url(spec.pool_region, spec.user_pool_id),
            audiences=[spec.client_id],
        ),
        region=place.region,
        opts=child(parent),
    )
    integration, routes = _routes(parent, spec, settings, api, authorizer)
    stage, access_logs = _stage(parent, spec, settings, names, api, routes)
    aws.lambda_.Permission(
        place.key("api-invokes-function"),
        action="lambda:InvokeFunction",
        function=spec.function_name,
        # Invoking an alias is authorised on the alias (its qualifier).
        qualifier=spec.qualifier,
        principal="apigateway.amazonaws.com",
        source_arn=pulumi.Output.concat(api.execution_arn, "/*/*"),
        region=place.region,
        opts=child(parent),
    )
    return HttpApi(api, authorizer, integration, routes, stage, access_logs)


def _routes(
    parent: pulumi.Resource,
    spec: HttpApiSpec,
    settings: Settings,
    api: aws.apigatewayv2.Api,
    authorizer: aws.apigatewayv2.Authorizer,
) -> tuple[aws.apigatewayv2.Integration, Dict[str, aws.apigatewayv2.Route]]:
    place = spec.place
    integration = aws.apigatewayv2.Integration(
        place.key("lambda-integration"),
        api_id=api.id,
        integration_type="AWS_PROXY",
        integration_uri=spec.target_arn,
        integration_method="POST",
        payload_format_version="2.0",
        region=place.region,
        opts=child(parent),
    )
    target = pulumi.Output.concat("integrations/", integration.id)
    public_routes = [HEALTH_ROUTE, *(DOCS_ROUTES if settings.api.public_docs else ())]
    routes = {}
    for route_key in [*public_routes, *API_ROUTES]:
        protected = route_key in API_ROUTES
        routes[route_key] = aws.apigatewayv2.Route(
            place.key(route_logical_name(route_key)),
            api_id=api.id,
            route_key=route_key,
            target=target,
            authorization_type="JWT" if protected else "NONE",
            authorizer_id=authorizer.id if protected else None,
            region=place.region,
            opts=child(parent),
        )
    return integration, routes


def _stage(
    parent: pulumi.Resource,
    spec: HttpApiSpec,
    settings: Settings,
    names: ResourceNames,
    api: aws.apigatewayv2.Api,
    routes: Dict[str, aws.apigatewayv2.Route],
) -> tuple[aws.apigatewayv2.Stage, aws.cloudwatch.LogGroup]:
    place = spec.place
    access_logs = log_group(
        parent,
        place.key("access-logs"),
        names.api_access_log_group,
        settings,
        spec.logs_key_arn,
        region=place.region,
    )
    stage = aws.apigatewayv2.Stage(
        place.key("default-stage"),
        api_id=api.id,
        name="$default",
        auto_deploy=True,
        default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
            throttling_rate_limit=settings.api.throttling_rate_limit,
            throttling_burst_limit=settings.api.throttling_burst_limit,
            detailed_metrics_enabled=True,
        ),
        access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
            destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
        ),
        region=place.region,
        opts=child(parent, depends_on=list(routes.values())),
    )
    return stage, access_logs


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


def route_logical_name(route_key: str) -> str:
    """``GET /health`` -> ``route-get-health``.

    ``GET /api/v1/{proxy+}`` -> ``route-get-api-v1-proxy``.
    """
    cleaned = "".join(c if c.isalnum() else "-" for c in route_key.lower())
    return "route-" + "-".join(part for part in cleaned.split("-") if part)
