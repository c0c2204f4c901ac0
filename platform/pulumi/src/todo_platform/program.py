"""The Pulumi program: one stage of Todo API with Insights.

``build`` declares every resource and returns the stack outputs (named as
``todo_core.naming.OUTPUT_NAMES``); ``main`` is what ``pulumi up`` runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict

import pulumi
import pulumi_aws as aws

from todo_core.naming import OUTPUT_NAMES, ResourceNames
from todo_platform import artifacts as artifact_registry
from todo_platform.api import TodoApi
from todo_platform.config import Settings, load_settings
from todo_platform.data import TodoData
from todo_platform.etl import TodoEtl
from todo_platform.monitoring import TodoMonitoring


@dataclass(frozen=True)
class Stack:
    """The components of a stage and its outputs."""

    names: ResourceNames
    provider: aws.Provider
    data: TodoData
    api: TodoApi
    etl: TodoEtl
    monitoring: TodoMonitoring
    outputs: Dict[str, pulumi.Input[str]]


def aws_provider(settings: Settings) -> aws.Provider:
    """The one AWS provider: the stage's region and the four tags on every taggable resource."""
    return aws.Provider(
        "aws",
        region=settings.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=settings.default_tags),
    )


def build(settings: Settings) -> Stack:
    # Fail before declaring anything if an artifact has not been built.
    built = artifact_registry.locate(settings.artifacts_dir)
    provider = aws_provider(settings)
    identity = aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=provider))
    names = ResourceNames(settings.stage, identity.account_id, settings.region)
    # Components pass the provider down to every child.
    opts = pulumi.ResourceOptions(providers={"aws": provider})

    data = TodoData("data", settings, names, opts=opts)
    api = TodoApi("api", settings, names, data, built, opts=opts)
    etl = TodoEtl("etl", settings, names, data, api, built, opts=opts)
    monitoring = TodoMonitoring("monitoring", settings, names, data, api, etl, built, opts=opts)

    outputs: Dict[str, pulumi.Input[str]] = {
        "TableName": data.table.name,
        "TableArn": data.table.arn,
        "ApiEndpoint": api.endpoint,
        "UserPoolId": api.user_pool.id,
        "UserPoolClientId": api.user_pool_client.id,
        "BronzeBucketName": etl.bronze.bucket,
        "SilverBucketName": etl.silver.bucket,
        "GoldBucketName": etl.gold.bucket,
        "FirehoseStreamName": etl.cdc_stream.name,
        "LogsFirehoseStreamName": etl.logs_stream.name,
        "GlueDatabaseName": etl.glue_database.name,
        "AthenaWorkgroupName": etl.athena_workgroup.name,
        "DashboardUrl": monitoring.dashboard_url,
        "AlertTopicArn": monitoring.alert_topic_arn,
    }
    missing = set(OUTPUT_NAMES) ^ set(outputs)
    if missing:  # pragma: no cover - guards edits of either list
        raise RuntimeError(f"stack outputs and OUTPUT_NAMES differ: {sorted(missing)}")
    return Stack(names, provider, data, api, etl, monitoring, outputs)


def main() -> None:
    stack = build(load_settings())
    for name in OUTPUT_NAMES:
        pulumi.export(name, stack.outputs[name])
