"""Firehose delivery streams into bronze (CDC events and API logs), and the log subscription."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import pulumi
import pulumi_aws as aws

from todo_core import lake
from todo_core.naming import ResourceNames
from todo_platform import iam
from todo_platform.blocks import child, log_group
from todo_platform.config import Settings

#: Firehose writes here, under the lake's prefix, what it could not deliver.
ERROR_OUTPUT_TYPE = "!{firehose:error-output-type}/"
LAKE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")

_Processor = (
    aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs
)
_Parameter = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArgs  # noqa: E501
#: CloudWatch Logs delivers gzip'd envelopes of log events; Firehose unpacks
#: them so bronze holds one structured log line per record.
CLOUDWATCH_LOGS_PROCESSORS = (
    _Processor(
        type="Decompression",
        parameters=[_Parameter(parameter_name="CompressionFormat", parameter_value="GZIP")],
    ),
    _Processor(
        type="CloudWatchLogProcessing",
        parameters=[_Parameter(parameter_name="DataMessageExtraction", parameter_value="true")],
    ),
    _Processor(type="AppendDelimiterToRecord"),
)


def delivery_prefix(layer_prefix: str) -> str:
    """``cdc/`` -> ``cdc/year=!{timestamp:yyyy}/month=.../hour=.../``."""
    return layer_prefix + lake.DATE_PARTITION_EXPRESSION


def error_prefix(layer_prefix: str) -> str:
    """``errors/cdc/<error type>/year=.../`` (Firehose requires the error type here)."""
    return (
        lake.BRONZE_ERROR_PREFIX + layer_prefix + ERROR_OUTPUT_TYPE + lake.DATE_PARTITION_EXPRESSION
    )


@dataclass(frozen=True)
class StreamSpec:
    """One delivery stream into bronze."""

    key: str
    stream_name: str
    layer_prefix: str
    processors: Optional[List[_Processor]] = None


@dataclass(frozen=True)
class Bronze:
    """Where every stream delivers, and with which keys."""

    bucket: aws.s3.Bucket
    lake_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]


def _delivery_role(
    parent: pulumi.Resource,
    spec: StreamSpec,
    bronze: Bronze,
    names: ResourceNames,
    errors_arn: pulumi.Input[str],
) -> Tuple[aws.iam.Role, aws.iam.RolePolicy]:
    role = aws.iam.Role(
        f"{spec.key}-stream-role",
        assume_role_policy=iam.firehose_trust_policy(names.account_id),
        description=f"Firehose writes {spec.stream_name} into the bronze bucket",
        opts=child(parent),
    )
    bucket_arn = bronze.bucket.arn
    policy = aws.iam.RolePolicy(
        f"{spec.key}-stream-policy",
        role=role.id,
        policy=iam.document(
            [
                iam.allow(
                    ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                    [
                        pulumi.Output.concat(bucket_arn, "/", spec.layer_prefix, "*"),
                        pulumi.Output.concat(bucket_arn, "/", lake.BRONZE_ERROR_PREFIX, "*"),
                    ],
                    sid="WriteBronzeObjects",
                ),
                iam.allow(
                    ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                    [bucket_arn],
                    sid="ListBronze",
                ),
                iam.kms_user(bronze.lake_key_arn, LAKE_KEY_ACTIONS, sid="UseLakeKey"),
                iam.allow(
                    ["logs:PutLogEvents"],
                    [pulumi.Output.concat(errors_arn, ":*")],
                    sid="LogDeliveryErrors",
                ),
            ]
        ),
        opts=child(parent),
    )
    return role, policy


def delivery_stream(
    parent: pulumi.Resource,
    spec: StreamSpec,
    bronze: Bronze,
    settings: Settings,
    names: ResourceNames,
) -> aws.kinesis.FirehoseDeliveryStream:
    """A GZIP, KMS-encrypted stream into its bronze prefix, logging its delivery errors."""
    errors = log_group(
        parent,
        f"{spec.key}-stream-logs",
        ResourceNames.delivery_stream_log_group(spec.stream_name),
        settings,
        bronze.logs_key_arn,
    )
    error_stream = aws.cloudwatch.LogStream(
        f"{spec.key}-stream-delivery-errors",
        name="DestinationDelivery",
        log_group_name=errors.name,
        opts=child(parent),
    )
    role, policy = _delivery_role(parent, spec, bronze, names, errors.arn)
    processing = (
        aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationArgs(
            enabled=True, processors=list(spec.processors)
        )
        if spec.processors
        else None
    )
    return aws.kinesis.FirehoseDeliveryStream(
        f"{spec.key}-stream",
        name=spec.stream_name,
        destination="extended_s3",
        server_side_encryption=aws.kinesis.FirehoseDeliveryStreamServerSideEncryptionArgs(
            enabled=True, key_type="CUSTOMER_MANAGED_CMK", key_arn=bronze.lake_key_arn
        ),
        extended_s3_configuration=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs(
            role_arn=role.arn,
            bucket_arn=bronze.bucket.arn,
            prefix=delivery_prefix(spec.layer_prefix),
            error_output_prefix=error_prefix(spec.layer_prefix),
            buffering_interval=settings.lake.firehose_buffering_interval_seconds,
            buffering_size=settings.lake.firehose_buffering_size_mb,
            compression_format="GZIP",
            kms_key_arn=bronze.lake_key_arn,
            cloudwatch_logging_options=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs(
                enabled=True,
                log_group_name=errors.name,
                log_stream_name=error_stream.name,
            ),
            processing_configuration=processing,
        ),
        opts=child(parent, depends_on=[policy]),
    )


@dataclass(frozen=True)
class LakeLogs:
    """Where function log groups are subscribed: the logs stream, and the role CloudWatch
    Logs assumes to put records into it (an ARN that resolves only once its policy exists:
    creating a subscription filter test-delivers a record)."""

    stream_arn: pulumi.Input[str]
    role_arn: pulumi.Input[str]


def logs_subscription_role(
    parent: pulumi.Resource, names: ResourceNames, stream: aws.kinesis.FirehoseDeliveryStream
) -> LakeLogs:
    """The role CloudWatch Logs uses to deliver this region's function logs to ``stream``."""
    region, account = names.region, names.account_id
    role = aws.iam.Role(
        "logs-subscription-role",
        assume_role_policy=iam.assume_role_policy(
            f"logs.{region}.amazonaws.com",
            {"StringLike": {"aws:SourceArn": f"arn:aws:logs:{region}:{account}:*"}},
        ),
        description="CloudWatch Logs delivers the functions' log events to the logs stream",
        opts=child(parent),
    )
    policy = aws.iam.RolePolicy(
        "logs-subscription-policy",
        role=role.id,
        policy=iam.document(
            [
                iam.allow(
                    ["firehose:PutRecord", "firehose:PutRecordBatch"],
                    [stream.arn],
                    sid="DeliverToLogsStream",
                )
            ]
        ),
        opts=child(parent),
    )
    role_arn = pulumi.Output.all(role.arn, policy.id).apply(lambda values: str(values[0]))
    return LakeLogs(stream.arn, role_arn)


def subscribe_to_lake(
    parent: pulumi.Resource,
    key: str,
    function_name: str,
    log_group_name: pulumi.Input[str],
    lake_logs: LakeLogs,
) -> aws.cloudwatch.LogSubscriptionFilter:
    """CloudWatch Logs sends every event of the function's log group to bronze ``logs/``."""
    return aws.cloudwatch.LogSubscriptionFilter(
        f"{key}-logs-to-lake",
        name=ResourceNames.function_logs_subscription(function_name),
        log_group=log_group_name,
        filter_pattern="",
        destination_arn=lake_logs.stream_arn,
        role_arn=lake_logs.role_arn,
        opts=child(parent),
    )
