"""The alarms of a stage, as data: the runbook's thresholds from the ``alarms`` settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Mapping, Optional

import pulumi

from todo_core.naming import ResourceNames
from todo_platform.blocks import ServiceFunction
from todo_platform.config import AlarmSettings, Settings
from todo_platform.dashboard import BILLING_REGION


@dataclass(frozen=True)
class AlarmSpec:
    """A single-metric alarm; ``statistic`` may be a percentile such as ``p95``."""

    key: str
    name: str
    description: str
    namespace: str
    metric_name: str
    dimensions: Mapping[str, pulumi.Input[str]]
    statistic: str
    threshold: float
    comparison: str = "GreaterThanThreshold"
    period: int = 300
    evaluation_periods: int = 1
    treat_missing_data: str = "notBreaching"
    region: Optional[str] = None


def api_alarm_specs(
    names: ResourceNames, a: AlarmSettings, dims: Mapping[str, Any]
) -> List[AlarmSpec]:
    gateway = "AWS/ApiGateway"
    return [
        AlarmSpec(
            "api-5xx",
            names.alarm(names.api, "5xx"),
            "API 5XX responses above 1 per minute",
            gateway,
            "5xx",
            dims,
            "Sum",
            a.api_5xx_per_minute,
            period=60,
        ),
        AlarmSpec(
            "api-latency",
            names.alarm(names.api, "latency-p95"),
            "API p95 latency above 500 ms",
            gateway,
            "Latency",
            dims,
            "p95",
            a.api_latency_p95_ms,
        ),
        AlarmSpec(
            "api-4xx",
            names.alarm(names.api, "4xx"),
            "API 4XX responses above 10, two periods running",
            gateway,
            "4xx",
            dims,
            "Sum",
            a.api_4xx_per_period,
            evaluation_periods=2,
        ),
    ]


def function_alarm_specs(fn: ServiceFunction, a: AlarmSettings) -> List[AlarmSpec]:
    key, dims = fn.deployable.key, {"FunctionName": fn.function.name}
    alarm = ResourceNames.alarm
    return [
        AlarmSpec(
            f"{key}-errors",
            alarm(fn.name, "errors"),
            f"{fn.name}: more than 5 errors",
            "AWS/Lambda",
            "Errors",
            dims,
            "Sum",
            a.lambda_errors,
        ),
        AlarmSpec(
            f"{key}-duration",
            alarm(fn.name, "duration"),
            f"{fn.name}: average duration above 5 s, two periods running",
            "AWS/Lambda",
            "Duration",
            dims,
            "Average",
            a.lambda_duration_ms,
            evaluation_periods=2,
        ),
        AlarmSpec(
            f"{key}-throttles",
            alarm(fn.name, "throttles"),
            f"{fn.name} is being throttled",
            "AWS/Lambda",
            "Throttles",
            dims,
            "Sum",
            0,
        ),
    ]


def _stream_alarm_specs(
    key: str, stream_name: str, stream: Any, a: AlarmSettings
) -> List[AlarmSpec]:
    dims = {"DeliveryStreamName": stream}
    return [
        AlarmSpec(
            f"{key}-stream-delivery-failures",
            ResourceNames.alarm(stream_name, "delivery-failures"),
            f"{stream_name}: deliveries to S3 failing",
            "AWS/Firehose",
            "DeliveryToS3.Success",
            dims,
            "Minimum",
            1,
            comparison="LessThanThreshold",
        ),
        AlarmSpec(
            f"{key}-stream-freshness",
            ResourceNames.alarm(stream_name, "data-freshness"),
            f"{stream_name}: oldest undelivered record too old",
            "AWS/Firehose",
            "DeliveryToS3.DataFreshness",
            dims,
            "Maximum",
            a.firehose_freshness_seconds,
        ),
    ]


def pipeline_alarm_specs(names: ResourceNames, a: AlarmSettings, args: Any) -> List[AlarmSpec]:
    """CDC falling behind or parking failures, and both delivery streams."""
    return [
        *stream_reader_alarm_specs(
            names,
            a,
            StreamReader(
                "cdc",
                names.cdc_function,
                names.cdc_dead_letter_queue,
                args.dead_letter_queue_name,
                "CDC is falling behind the table stream",
                "Change batches gave up on and parked in the dead-letter queue",
            ),
        ),
        *_stream_alarm_specs("cdc", names.cdc_delivery_stream, args.cdc_stream_name, a),
        *_stream_alarm_specs("logs", names.logs_delivery_stream, args.logs_stream_name, a),
        *kpi_alarm_specs(names, a),
    ]


@dataclass(frozen=True)
class StreamReader:
    """A function reading the table stream, and the queue its mapping parks failures in."""

    key: str
    function_name: str
    queue_name: str
    queue_dimension: pulumi.Input[str]
    behind: str
    parked: str


def stream_reader_alarm_specs(
    names: ResourceNames, a: AlarmSettings, reader: StreamReader
) -> List[AlarmSpec]:
    """A stream reader falling behind (its iterator age), or a batch it parked."""
    return [
        AlarmSpec(
            f"{reader.key}-iterator-age",
            names.alarm(reader.function_name, "iterator-age"),
            reader.behind,
            "AWS/Lambda",
            "IteratorAge",
            {"FunctionName": reader.function_name},
            "Maximum",
            a.iterator_age_ms,
        ),
        AlarmSpec(
            f"{reader.key}-dlq-depth",
            names.alarm(reader.queue_name, "not-empty"),
            reader.parked,
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": reader.queue_dimension},
            "Maximum",
            0,
        ),
    ]


def kpi_alarm_specs(names: ResourceNames, a: AlarmSettings) -> List[AlarmSpec]:
    """The KPI counters falling behind the stream (their freshness), or a parked record."""
    return stream_reader_alarm_specs(
        names,
        a,
        StreamReader(
            "kpi",
            names.kpi_function,
            names.kpi_dead_letter_queue,
            names.kpi_dead_letter_queue,
            "The KPI counters are falling behind the table stream",
            "A change the KPI counters could not apply was parked in the dead-letter queue",
        ),
    )


def replication_alarm_specs(
    names: ResourceNames, settings: Settings, table_name: pulumi.Input[str]
) -> List[AlarmSpec]:
    """The second region falling behind: the RPO the README promises, made visible.

    Both metrics are published in the stage's region (the replication's source).
    """
    second, a = settings.secondary_region, settings.alarms
    region = settings.standby_region
    if region is None:
        return []
    specs = []
    if second.replicate_table:
        specs.append(
            AlarmSpec(
                "table-replication-latency",
                names.alarm(names.table, "replication-latency"),
                f"Writes reach the table's replica in {region} late (RPO at risk)",
                "AWS/DynamoDB",
                "ReplicationLatency",
                {"TableName": table_name, "ReceivingRegion": region},
                "Average",
                a.table_replication_latency_ms,
            )
        )
    if second.replicate_bronze:
        standby_bronze = ResourceNames(names.stage, names.account_id, region).bronze_bucket
        specs.append(
            AlarmSpec(
                "bronze-replication-failures",
                names.alarm(names.bronze_bucket, "replication-failures"),
                f"Bronze objects failing to replicate to {region}",
                "AWS/S3",
                "OperationsFailedReplication",
                {
                    "SourceBucket": names.bronze_bucket,
                    "DestinationBucket": standby_bronze,
                    "RuleId": names.bronze_replication_rule,
                },
                "Sum",
                0,
            )
        )
    return specs


def cost_alarm_specs(names: ResourceNames, a: AlarmSettings) -> List[AlarmSpec]:
    """Billing metrics: us-east-1 only, account-wide, updated a few times a day."""
    return [
        AlarmSpec(
            f"{service_key}-cost",
            names.cost_alarm(service_key),
            f"{service} estimated charges this month above ${threshold:g}",
            "AWS/Billing",
            "EstimatedCharges",
            {"ServiceName": service, "Currency": "USD"},
            "Maximum",
            threshold,
            period=21600,
            region=BILLING_REGION,
        )
        for service_key, service, threshold in (
            ("dynamodb", "AmazonDynamoDB", a.dynamodb_cost_usd),
            ("lambda", "AWSLambda", a.lambda_cost_usd),
        )
    ]
