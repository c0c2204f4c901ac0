"""The Pulumi program: one stage of Todo API with Insights.

``build`` declares every resource and returns the stack outputs (named as
``todo_core.naming.OUTPUT_NAMES``); ``main`` is what ``pulumi up`` runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

import pulumi
import pulumi_aws as aws

from todo_core.naming import OUTPUT_NAMES, SECONDARY_REGION_OUTPUT_NAMES, ResourceNames
from todo_platform import artifacts as artifact_registry
from todo_platform.api import TodoApi, TodoApiArgs
from todo_platform.artifacts import STANDBY_PREFIX
from todo_platform.blocks import Placement
from todo_platform.config import Settings, load_settings
from todo_platform.data import TodoData, TodoDataArgs
from todo_platform.etl import TodoEtl, TodoEtlArgs
from todo_platform.failover import RegionalEndpoint, TodoFailover, TodoFailoverArgs
from todo_platform.kpi import TodoKpiAggregator, TodoKpiAggregatorArgs
from todo_platform.monitoring import StandbyWatch, TodoMonitoring, TodoMonitoringArgs


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
    #: ``SECONDARY_REGION_OUTPUT_NAMES`` this stage has (none without a second region).
    secondary_outputs: Dict[str, pulumi.Input[str]]


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

    data = TodoData("data", TodoDataArgs(settings, names), opts=opts)
    standby = data.standby_keys
    standby_secrets = Placement(standby.secrets, standby.region) if standby else None
    api = TodoApi(
        "api",
        TodoApiArgs(
            settings,
            names,
            built,
            table_name=data.table.name,
            table_arn=data.table.arn,
            table_key_arn=data.table_key.arn,
            logs_key_arn=data.logs_key.arn,
            secrets_key_arn=data.secrets_key.arn,
            standby_secrets=standby_secrets,
            standby_keys=standby,
        ),
        opts=opts,
    )
    etl = TodoEtl(
        "etl",
        TodoEtlArgs(
            settings,
            names,
            built,
            table_arn=data.table.arn,
            stream_arn=data.table.stream_arn,
            table_key_arn=data.table_key.arn,
            logs_key_arn=data.logs_key.arn,
            secrets_key_arn=data.secrets_key.arn,
            api_log_group_name=api.service.log_group.name,
            standby_secrets=standby_secrets,
        ),
        opts=opts,
    )
    kpi = TodoKpiAggregator(
        "kpi",
        TodoKpiAggregatorArgs(
            settings,
            names,
            built,
            table_name=data.table.name,
            table_arn=data.table.arn,
            stream_arn=data.table.stream_arn,
            table_key_arn=data.table_key.arn,
            logs_key_arn=data.logs_key.arn,
            lake_logs=etl.lake_logs,
        ),
        opts=opts,
    )
    monitoring = _monitoring(settings, names, built, data, api, etl, kpi, opts)
    outputs = _outputs(data, api, etl, monitoring)
    missing = set(OUTPUT_NAMES) ^ set(outputs)
    if missing:  # pragma: no cover - guards edits of either list
        raise RuntimeError(f"stack outputs and OUTPUT_NAMES differ: {sorted(missing)}")
    failover = _failover(settings, names, api, opts)
    secondary = _secondary_outputs(api, failover)
    return Stack(names, provider, data, api, etl, monitoring, outputs, secondary)


def _monitoring(
    settings: Settings,
    names: ResourceNames,
    built: artifact_registry.Artifacts,
    data: TodoData,
    api: TodoApi,
    etl: TodoEtl,
    kpi: TodoKpiAggregator,
    opts: pulumi.ResourceOptions,
) -> TodoMonitoring:
    return TodoMonitoring(
        "monitoring",
        TodoMonitoringArgs(
            settings,
            names,
            built,
            table_name=data.table.name,
            table_arn=data.table.arn,
            table_key_arn=data.table_key.arn,
            logs_key_arn=data.logs_key.arn,
            api_id=api.http_api.id,
            functions=(api.service, etl.cdc, kpi.service),
            dead_letter_queue_name=etl.dead_letter_queue.name,
            cdc_stream_name=etl.cdc_stream.name,
            logs_stream_name=etl.logs_stream.name,
            silver_job_name=etl.silver_job.name,
            gold_job_name=etl.gold_job.name,
            lake_logs=etl.lake_logs,
            standby=(
                StandbyWatch(api.standby.region, api.standby.http.api.id, (api.standby.service,))
                if api.standby
                else None
            ),
        ),
        opts=opts,
    )


def _outputs(
    data: TodoData, api: TodoApi, etl: TodoEtl, monitoring: TodoMonitoring
) -> Dict[str, pulumi.Input[str]]:
    """The runbook's stack outputs (``OUTPUT_NAMES``)."""
    return {
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


def _failover(
    settings: Settings, names: ResourceNames, api: TodoApi, opts: pulumi.ResourceOptions
) -> Optional[TodoFailover]:
    """DNS failover between the two regions' APIs, where a hosted zone and a name are set."""
    failover, standby = settings.secondary_region.failover, api.standby
    if failover is None or standby is None:
        return None
    endpoints = (
        RegionalEndpoint(
            "PRIMARY", "", None, api.http_api.id, api.http_api.api_endpoint, api.stage.id
        ),
        RegionalEndpoint(
            "SECONDARY",
            STANDBY_PREFIX,
            standby.region,
            standby.http.api.id,
            standby.http.api.api_endpoint,
            standby.http.stage.id,
        ),
    )
    return TodoFailover("failover", TodoFailoverArgs(failover, names, endpoints), opts=opts)


def _secondary_outputs(
    api: TodoApi, failover: Optional[TodoFailover]
) -> Dict[str, pulumi.Input[str]]:
    if api.standby is None:
        return {}
    outputs: Dict[str, pulumi.Input[str]] = {
        "StandbyRegion": api.standby.region,
        "StandbyApiEndpoint": api.standby.http.endpoint,
    }
    if failover is not None:
        outputs["FailoverApiUrl"] = failover.url
    return outputs


def main() -> None:
    stack = build(load_settings())
    for name in OUTPUT_NAMES:
        pulumi.export(name, stack.outputs[name])
    for name in SECONDARY_REGION_OUTPUT_NAMES:
        if name in stack.secondary_outputs:
            pulumi.export(name, stack.secondary_outputs[name])
