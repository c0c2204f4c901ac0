"""TodoEtl: the data lake, the CDC and log delivery streams, the Glue jobs, Athena."""

from __future__ import annotations

from typing import Dict, List, Optional

import pulumi
import pulumi_aws as aws

from todo_core import lake
from todo_core.naming import METRICS_NAMESPACE, ResourceNames
from todo_platform import iam
from todo_platform.api import TodoApi
from todo_platform.artifacts import CDC_PROCESSOR, ETL_GOLD, ETL_SILVER, Artifacts, Deployable
from todo_platform.blocks import (
    ServiceFunction,
    child,
    kms_key,
    log_group,
    secure_bucket,
    service_function,
)
from todo_platform.config import Settings
from todo_platform.data import TodoData

GLUE_VERSION = "3.0"
GLUE_PYTHON_VERSION = "3.9"
#: Where the Glue jobs' code lives in the artifacts bucket.
GLUE_ARTIFACTS_PREFIX = "glue/"
#: Lambda's DynamoDB-stream mapping reports partial failures instead of
#: retrying whole batches.
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
#: Firehose writes here, under the lake's prefix, what it could not deliver.
ERROR_OUTPUT_TYPE = "!{firehose:error-output-type}/"
DLQ_RETENTION_SECONDS = 14 * 24 * 3600

_S3_READ = ("s3:GetObject",)
_S3_WRITE = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")
_S3_LIST = ("s3:GetBucketLocation", "s3:ListBucket")
_LAKE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
#: What awswrangler needs to read, create and overwrite catalogued Parquet tables.
GLUE_CATALOG_ACTIONS = (
    "glue:BatchCreatePartition",
    "glue:BatchDeletePartition",
    "glue:BatchGetPartition",
    "glue:CreatePartition",
    "glue:CreateTable",
    "glue:DeletePartition",
    "glue:DeleteTable",
    "glue:GetDatabase",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:GetTable",
    "glue:GetTables",
    "glue:UpdatePartition",
    "glue:UpdateTable",
)


def s3_url(bucket: pulumi.Input[str], key: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.concat("s3://", bucket, "/", key)


def delivery_prefix(layer_prefix: str) -> str:
    """``cdc/`` -> ``cdc/year=!{timestamp:yyyy}/month=.../hour=.../``."""
    return layer_prefix + lake.DATE_PARTITION_EXPRESSION


def error_prefix(layer_prefix: str) -> str:
    """``errors/cdc/<error type>/year=.../`` (Firehose requires the error type here)."""
    return (
        lake.BRONZE_ERROR_PREFIX + layer_prefix + ERROR_OUTPUT_TYPE + lake.DATE_PARTITION_EXPRESSION
    )


class TodoEtl(pulumi.ComponentResource):
    """Bronze/silver/gold buckets, delivery streams, cdc-processor, Glue, Athena."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        names: ResourceNames,
        data: TodoData,
        api: TodoApi,
        artifacts: Artifacts,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("todo:platform:TodoEtl", name, None, opts)
        self._settings = settings
        self._names = names
        account, region = names.account_id, names.region
        self.lake_key = kms_key(
            self,
            "lake",
            f"todo-lake-{settings.stage}",
            f"Encrypts the {settings.stage} data lake, its delivery streams and query results",
            account,
            settings,
        )
        lake_settings = settings.lake
        self.bronze = secure_bucket(
            self,
            "bronze",
            names.bronze_bucket,
            self.lake_key.arn,
            settings,
            lake_settings.bronze,
            lake_settings.bronze.noncurrent_version_expiration_days,
        )
        self.silver = secure_bucket(
            self,
            "silver",
            names.silver_bucket,
            self.lake_key.arn,
            settings,
            lake_settings.silver,
            lake_settings.silver.noncurrent_version_expiration_days,
        )
        self.gold = secure_bucket(
            self,
            "gold",
            names.gold_bucket,
            self.lake_key.arn,
            settings,
            lake_settings.gold,
            lake_settings.gold.noncurrent_version_expiration_days,
            extra_rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-athena-results",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
                        prefix=lake.ATHENA_RESULTS_PREFIX
                    ),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=lake_settings.athena_results_expiration_days
                    ),
                )
            ],
        )
        self.artifacts_bucket = secure_bucket(
            self,
            "artifacts",
            names.artifacts_bucket,
            self.lake_key.arn,
            settings,
            None,
            lake_settings.artifacts_noncurrent_version_expiration_days,
        )

        # --- delivery streams -------------------------------------------------
        self.cdc_stream = self._delivery_stream(
            "cdc", names.cdc_delivery_stream, lake.BRONZE_CDC_PREFIX, data, processors=None
        )
        # CloudWatch Logs delivers gzip'd envelopes of log events; Firehose
        # unpacks them so bronze holds one structured log line per record.
        self.logs_stream = self._delivery_stream(
            "logs",
            names.logs_delivery_stream,
            lake.BRONZE_LOGS_PREFIX,
            data,
            processors=[
                aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs(
                    type="Decompression",
                    parameters=[
                        aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArgs(
                            parameter_name="CompressionFormat", parameter_value="GZIP"
                        )
                    ],
                ),
                aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs(
                    type="CloudWatchLogProcessing",
                    parameters=[
                        aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArgs(
                            parameter_name="DataMessageExtraction", parameter_value="true"
                        )
                    ],
                ),
                aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs(
                    type="AppendDelimiterToRecord"
                ),
            ],
        )
        self.subscription_role = aws.iam.Role(
            "logs-subscription-role",
            assume_role_policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {
                                "StringLike": {
                                    "aws:SourceArn": f"arn:aws:logs:{region}:{account}:*"
                                }
                            },
                        }
                    ],
                }
            ),
            description="CloudWatch Logs delivers the API's log events to the logs stream",
            opts=child(self),
        )
        subscription_policy = aws.iam.RolePolicy(
            "logs-subscription-policy",
            role=self.subscription_role.id,
            policy=iam.document(
                [
                    iam.allow(
                        ["firehose:PutRecord", "firehose:PutRecordBatch"],
                        [self.logs_stream.arn],
                        sid="DeliverToLogsStream",
                    )
                ]
            ),
            opts=child(self),
        )
        self.api_log_subscription = aws.cloudwatch.LogSubscriptionFilter(
            "api-logs-to-lake",
            name=f"{names.api_function}-to-lake",
            log_group=api.service.log_group.name,
            filter_pattern="",
            destination_arn=self.logs_stream.arn,
            role_arn=self.subscription_role.arn,
            opts=child(self, depends_on=[subscription_policy]),
        )

        # --- change data capture -----------------------------------------------
        self.dead_letter_queue = aws.sqs.Queue(
            "cdc-dlq",
            name=names.cdc_dead_letter_queue,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            opts=child(self),
        )
        cdc = settings.cdc
        table_arn = data.table.arn
        self.cdc: ServiceFunction = service_function(
            self,
            CDC_PROCESSOR,
            names.cdc_function,
            cdc.function,
            settings,
            artifacts,
            data.logs_key,
            environment={
                "STAGE": settings.stage,
                "FIREHOSE_STREAM_NAME": self.cdc_stream.name,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_SERVICE_NAME": CDC_PROCESSOR.package,
                "LOG_LEVEL": cdc.function.log_level,
            },
            statements=[
                iam.allow(
                    ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                    [data.table.stream_arn],
                    sid="ReadTableStream",
                ),
                iam.allow(
                    ["dynamodb:ListStreams"],
                    [pulumi.Output.concat(table_arn, "/stream/*")],
                    sid="ListTableStreams",
                ),
                iam.kms_user(data.table_key.arn, ["kms:Decrypt"], sid="DecryptStreamRecords"),
                iam.allow(
                    ["firehose:PutRecord", "firehose:PutRecordBatch"],
                    [self.cdc_stream.arn],
                    sid="DeliverToCdcStream",
                ),
                iam.allow(
                    ["sqs:SendMessage"], [self.dead_letter_queue.arn], sid="SendFailuresToDlq"
                ),
            ],
        )
        self.cdc_function = self.cdc.function
        self.event_source_mapping = aws.lambda_.EventSourceMapping(
            "cdc-stream-mapping",
            event_source_arn=data.table.stream_arn,
            function_name=self.cdc_function.arn,
            # From the oldest record still in the stream: a re-created mapping
            # re-delivers (the silver job de-duplicates) rather than skips.
            starting_position="TRIM_HORIZON",
            batch_size=cdc.batch_size,
            maximum_batching_window_in_seconds=cdc.maximum_batching_window_seconds,
            parallelization_factor=cdc.parallelization_factor,
            bisect_batch_on_function_error=True,
            maximum_retry_attempts=cdc.maximum_retry_attempts,
            maximum_record_age_in_seconds=cdc.maximum_record_age_seconds,
            function_response_types=[REPORT_BATCH_ITEM_FAILURES],
            destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                    destination_arn=self.dead_letter_queue.arn
                )
            ),
            # Creating the mapping checks that the role can already read the stream.
            opts=child(self, depends_on=[self.cdc.policy]),
        )

        # --- Glue ------------------------------------------------------------------
        self.glue_database = aws.glue.CatalogDatabase(
            "glue-database",
            name=names.glue_database,
            description=f"Todo analytics, silver and gold tables ({settings.stage})",
            opts=child(self),
        )
        self.silver_job = self._glue_job(
            ETL_SILVER,
            names.silver_job,
            artifacts,
            data,
            reads=[self.bronze],
            writes=[self.silver],
        )
        self.gold_job = self._glue_job(
            ETL_GOLD,
            names.gold_job,
            artifacts,
            data,
            reads=[self.silver],
            writes=[self.gold],
        )
        self.workflow = aws.glue.Workflow(
            "lake-refresh",
            name=f"todo-lake-refresh-{settings.stage}",
            description="Silver, then gold, on a schedule",
            max_concurrent_runs=1,
            opts=child(self),
        )
        self.silver_trigger = aws.glue.Trigger(
            "silver-schedule",
            name=f"{names.silver_job}-schedule",
            workflow_name=self.workflow.name,
            type="SCHEDULED",
            schedule=settings.etl.schedule,
            enabled=settings.etl.schedule_enabled,
            start_on_creation=settings.etl.schedule_enabled,
            actions=[aws.glue.TriggerActionArgs(job_name=self.silver_job.name)],
            opts=child(self),
        )
        self.gold_trigger = aws.glue.Trigger(
            "gold-after-silver",
            name=f"{names.gold_job}-after-silver",
            workflow_name=self.workflow.name,
            type="CONDITIONAL",
            start_on_creation=True,
            predicate=aws.glue.TriggerPredicateArgs(
                conditions=[
                    aws.glue.TriggerPredicateConditionArgs(
                        job_name=self.silver_job.name,
                        state="SUCCEEDED",
                        logical_operator="EQUALS",
                    )
                ]
            ),
            actions=[aws.glue.TriggerActionArgs(job_name=self.gold_job.name)],
            opts=child(self),
        )

        # --- Athena ----------------------------------------------------------------
        self.athena_workgroup = aws.athena.Workgroup(
            "athena-workgroup",
            name=names.athena_workgroup,
            description="Queries over the gold (and silver) tables",
            state="ENABLED",
            force_destroy=settings.lake.force_destroy,
            configuration=aws.athena.WorkgroupConfigurationArgs(
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=settings.etl.athena_bytes_scanned_cutoff,
                result_configuration=aws.athena.WorkgroupConfigurationResultConfigurationArgs(
                    output_location=s3_url(self.gold.bucket, lake.ATHENA_RESULTS_PREFIX),
                    encryption_configuration=aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                        encryption_option="SSE_KMS", kms_key_arn=self.lake_key.arn
                    ),
                ),
            ),
            opts=child(self),
        )

        self.register_outputs(
            {
                "bronzeBucketName": self.bronze.bucket,
                "silverBucketName": self.silver.bucket,
                "goldBucketName": self.gold.bucket,
                "firehoseStreamName": self.cdc_stream.name,
                "logsFirehoseStreamName": self.logs_stream.name,
                "glueDatabaseName": self.glue_database.name,
                "athenaWorkgroupName": self.athena_workgroup.name,
            }
        )

    # --- helpers -------------------------------------------------------------------

    def _delivery_stream(
        self,
        key: str,
        stream_name: str,
        layer_prefix: str,
        data: TodoData,
        processors: Optional[list],
    ) -> aws.kinesis.FirehoseDeliveryStream:
        settings, names = self._settings, self._names
        errors = log_group(
            self,
            f"{key}-stream-logs",
            f"/aws/kinesisfirehose/{stream_name}",
            settings,
            data.logs_key,
        )
        error_stream = aws.cloudwatch.LogStream(
            f"{key}-stream-delivery-errors",
            name="DestinationDelivery",
            log_group_name=errors.name,
            opts=child(self),
        )
        role = aws.iam.Role(
            f"{key}-stream-role",
            assume_role_policy=iam.assume_role_policy(
                "firehose.amazonaws.com", account_id=names.account_id
            ),
            description=f"Firehose writes {stream_name} into the bronze bucket",
            opts=child(self),
        )
        policy = aws.iam.RolePolicy(
            f"{key}-stream-policy",
            role=role.id,
            policy=iam.document(
                [
                    iam.allow(
                        ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                        [
                            pulumi.Output.concat(self.bronze.arn, "/", layer_prefix, "*"),
                            pulumi.Output.concat(
                                self.bronze.arn, "/", lake.BRONZE_ERROR_PREFIX, "*"
                            ),
                        ],
                        sid="WriteBronzeObjects",
                    ),
                    iam.allow(
                        ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                        [self.bronze.arn],
                        sid="ListBronze",
                    ),
                    iam.kms_user(self.lake_key.arn, _LAKE_KEY_ACTIONS, sid="UseLakeKey"),
                    iam.allow(
                        ["logs:PutLogEvents"],
                        [pulumi.Output.concat(errors.arn, ":*")],
                        sid="LogDeliveryErrors",
                    ),
                ]
            ),
            opts=child(self),
        )
        processing = (
            aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationArgs(
                enabled=True, processors=processors
            )
            if processors
            else None
        )
        return aws.kinesis.FirehoseDeliveryStream(
            f"{key}-stream",
            name=stream_name,
            destination="extended_s3",
            server_side_encryption=aws.kinesis.FirehoseDeliveryStreamServerSideEncryptionArgs(
                enabled=True, key_type="CUSTOMER_MANAGED_CMK", key_arn=self.lake_key.arn
            ),
            extended_s3_configuration=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs(
                role_arn=role.arn,
                bucket_arn=self.bronze.arn,
                prefix=delivery_prefix(layer_prefix),
                error_output_prefix=error_prefix(layer_prefix),
                buffering_interval=settings.lake.firehose_buffering_interval_seconds,
                buffering_size=settings.lake.firehose_buffering_size_mb,
                compression_format="GZIP",
                kms_key_arn=self.lake_key.arn,
                cloudwatch_logging_options=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs(
                    enabled=True,
                    log_group_name=errors.name,
                    log_stream_name=error_stream.name,
                ),
                processing_configuration=processing,
            ),
            opts=child(self, depends_on=[policy]),
        )

    def _glue_job(
        self,
        deployable: Deployable,
        job_name: str,
        artifacts: Artifacts,
        data: TodoData,
        reads: List[aws.s3.Bucket],
        writes: List[aws.s3.Bucket],
    ) -> aws.glue.Job:
        settings, names = self._settings, self._names
        account, region = names.account_id, names.region
        built = artifacts.glue_job(deployable)
        prefix = f"{GLUE_ARTIFACTS_PREFIX}{deployable.package}/"
        bucket = self.artifacts_bucket
        script = aws.s3.BucketObjectv2(
            deployable.script_logical_name,
            bucket=bucket.id,
            key=prefix + built.key(built.script),
            source=pulumi.FileAsset(str(built.script)),
            content_type="text/x-python",
            opts=child(self),
        )
        wheels = [
            aws.s3.BucketObjectv2(
                deployable.wheel_logical_name(wheel.name),
                bucket=bucket.id,
                key=prefix + built.key(wheel),
                source=pulumi.FileAsset(str(wheel)),
                content_type="application/zip",
                opts=child(self),
            )
            for wheel in built.wheels
        ]
        database = names.glue_database
        glue_arn = f"arn:aws:glue:{region}:{account}"
        log_arn = f"arn:aws:logs:{region}:{account}:log-group:/aws-glue/*"
        statements: List[iam.Statement] = [
            iam.allow(
                _S3_READ,
                [pulumi.Output.concat(bucket.arn, "/", prefix, "*")],
                sid="ReadOwnCode",
            ),
            iam.allow(_S3_LIST, [b.arn for b in [*reads, *writes]], sid="ListLakeBuckets"),
            iam.allow(
                _S3_READ, [pulumi.Output.concat(b.arn, "/*") for b in reads], sid="ReadInput"
            ),
            iam.allow(
                _S3_WRITE, [pulumi.Output.concat(b.arn, "/*") for b in writes], sid="WriteOutput"
            ),
            iam.kms_user(self.lake_key.arn, _LAKE_KEY_ACTIONS, sid="UseLakeKey"),
            iam.allow(
                GLUE_CATALOG_ACTIONS,
                [
                    f"{glue_arn}:catalog",
                    f"{glue_arn}:database/{database}",
                    f"{glue_arn}:table/{database}/*",
                ],
                sid="LakeCatalog",
            ),
            # Glue writes job output to the account's /aws-glue/ log groups.
            iam.allow(["logs:CreateLogGroup"], [log_arn], sid="GlueLogGroups"),
            iam.allow(
                ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_arn}:*"], sid="GlueLogs"
            ),
            iam.metrics_writer(METRICS_NAMESPACE),
        ]
        role = aws.iam.Role(
            f"{deployable.key}-job-role",
            assume_role_policy=iam.assume_role_policy("glue.amazonaws.com", account_id=account),
            description=f"Role of the {job_name} Glue job",
            opts=child(self),
        )
        policy = aws.iam.RolePolicy(
            f"{deployable.key}-job-policy",
            role=role.id,
            policy=iam.document(statements),
            opts=child(self),
        )
        # Glue pip-installs the job's own wheels from S3, then the exact
        # third-party pins of etl/uv.lock from PyPI.
        modules = pulumi.Output.all(*[s3_url(w.bucket, w.key) for w in wheels]).apply(
            lambda urls: ",".join([*urls, *built.pins])
        )
        arguments: Dict[str, pulumi.Input[str]] = {
            "--job-language": "python",
            "--BRONZE_BUCKET": self.bronze.bucket,
            "--SILVER_BUCKET": self.silver.bucket,
            "--GOLD_BUCKET": self.gold.bucket,
            "--DATABASE_NAME": self.glue_database.name,
            "--STAGE": settings.stage,
            "--additional-python-modules": modules,
        }
        return aws.glue.Job(
            deployable.job_logical_name,
            name=job_name,
            description=f"{deployable.package}: python -m {deployable.entry}",
            role_arn=role.arn,
            glue_version=GLUE_VERSION,
            command=aws.glue.JobCommandArgs(
                name="pythonshell",
                python_version=GLUE_PYTHON_VERSION,
                script_location=s3_url(script.bucket, script.key),
            ),
            max_capacity=settings.etl.glue_max_capacity,
            timeout=settings.etl.glue_timeout_minutes,
            max_retries=settings.etl.glue_max_retries,
            execution_property=aws.glue.JobExecutionPropertyArgs(max_concurrent_runs=1),
            default_arguments=arguments,
            opts=child(self, depends_on=[policy, *wheels]),
        )
