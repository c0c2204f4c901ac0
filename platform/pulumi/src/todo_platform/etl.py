"""TodoEtl: the data lake, the CDC and log delivery streams, the Glue jobs, Athena."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from todo_core import lake
from todo_core.naming import METRICS_NAMESPACE, ResourceNames
from todo_platform import iam
from todo_platform.artifacts import (
    CDC_PROCESSOR,
    ETL_GOLD,
    ETL_SILVER,
    Artifacts,
    Deployable,
    GlueArtifact,
)
from todo_platform.blocks import (
    FunctionSpec,
    Placement,
    SecureBucket,
    ServiceFunction,
    child,
    kms_key,
    log_group,
    secure_bucket,
    service_function,
    stored_secret,
)
from todo_platform.config import LifecycleSettings, Settings
from todo_platform.delivery import (
    CLOUDWATCH_LOGS_PROCESSORS,
    Bronze,
    LakeLogs,
    StreamSpec,
    delivery_stream,
    logs_subscription_role,
    subscribe_to_lake,
)
from todo_platform.glue import GlueJobSpec, LakeAccess, SparkRuntime, glue_job, s3_url
from todo_platform.policies import GLUE_SPARK_LOG_STREAMS
from todo_platform.replication import ReplicationSpec, replicate_bucket
from todo_platform.stream_readers import (
    REPORT_BATCH_ITEM_FAILURES,
    dead_letter_queue,
    read_stream_statements,
)

#: What gold's Athena engine calls (awswrangler.athena), on the stage's workgroup only.
ATHENA_QUERY_ACTIONS = (
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:GetWorkGroup",
    "athena:StartQueryExecution",
    "athena:StopQueryExecution",
)


def spark_log_group_prefix(job_name: str) -> str:
    """``/aws-glue/jobs/<job>``: under the ``/aws-glue/`` groups the job roles may write."""
    return f"/aws-glue/jobs/{job_name}"


def spark_security_configuration_name(names: ResourceNames) -> str:
    return f"todo-lake-spark-{names.stage}"


@dataclass(frozen=True)
class TodoEtlArgs:
    settings: Settings
    names: ResourceNames
    artifacts: Artifacts
    table_arn: pulumi.Input[str]
    stream_arn: pulumi.Input[str]
    table_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]
    #: The API function's log group, delivered into bronze ``logs/``.
    api_log_group_name: pulumi.Input[str]
    #: Where the stage's secrets are replicated (its second region), if it has one.
    standby_secrets: Optional[Placement] = None


class TodoEtl(pulumi.ComponentResource):
    """Bronze/silver/gold buckets, delivery streams, cdc-processor, Glue, Athena."""

    def __init__(
        self, name: str, args: TodoEtlArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("todo:platform:TodoEtl", name, None, opts)
        self._args = args
        settings, names = args.settings, args.names
        self.lake_key = kms_key(
            self,
            "lake",
            names.lake_key_alias,
            f"Encrypts the {settings.stage} data lake, its delivery streams and query results",
            names.account_id,
            settings,
        )
        self._buckets()
        self._streams()
        self._cdc()
        self._glue()
        self.athena_workgroup = self._athena()
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

    def _bucket(
        self,
        key: str,
        name: str,
        lifecycle: Optional[LifecycleSettings],
        noncurrent_days: int,
        extra: Sequence[aws.s3.BucketLifecycleConfigurationRuleArgs] = (),
        place: Optional[Placement] = None,
    ) -> SecureBucket:
        return secure_bucket(
            self,
            key,
            name,
            place or Placement(self.lake_key.arn),
            self._args.settings,
            lifecycle,
            noncurrent_days,
            extra_rules=extra,
        )

    def _buckets(self) -> None:
        names, lake_settings = self._args.names, self._args.settings.lake
        bronze = self._bucket(
            "bronze",
            names.bronze_bucket,
            lake_settings.bronze,
            lake_settings.bronze.noncurrent_version_expiration_days,
        )
        self.bronze = bronze.bucket
        self.bronze_replica = self._replicate_bronze(bronze)
        self.silver = self._bucket(
            "silver",
            names.silver_bucket,
            lake_settings.silver,
            lake_settings.silver.noncurrent_version_expiration_days,
        ).bucket
        athena_results = aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-athena-results",
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
                prefix=lake.ATHENA_RESULTS_PREFIX
            ),
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                days=lake_settings.athena_results_expiration_days
            ),
        )
        self.gold = self._bucket(
            "gold",
            names.gold_bucket,
            lake_settings.gold,
            lake_settings.gold.noncurrent_version_expiration_days,
            extra=[athena_results],
        ).bucket
        self.artifacts_bucket = self._bucket(
            "artifacts",
            names.artifacts_bucket,
            None,
            lake_settings.artifacts_noncurrent_version_expiration_days,
        ).bucket

    def _replicate_bronze(self, bronze: SecureBucket) -> Optional[aws.s3.Bucket]:
        """Bronze, the lake's system of record, copied into the second region.

        Silver and gold are not replicated: the jobs rebuild them from bronze
        (README, "Disaster recovery"). The copy has the bucket's lifecycle and
        every protection of a stage bucket, with the lake key of its region.
        """
        settings, names = self._args.settings, self._args.names
        region = settings.standby_region
        if region is None or not settings.secondary_region.replicate_bronze:
            return None
        standby_names = ResourceNames(settings.stage, names.account_id, region)
        standby_key = kms_key(
            self,
            "lake-standby",
            names.lake_key_alias,
            f"Encrypts the {settings.stage} bronze copy in the standby region",
            names.account_id,
            settings,
            region=region,
        )
        copy = self._bucket(
            "bronze-standby",
            standby_names.bronze_bucket,
            settings.lake.bronze,
            settings.lake.bronze.noncurrent_version_expiration_days,
            place=Placement(standby_key.arn, region),
        )
        replicate_bucket(
            self,
            ReplicationSpec(
                key="bronze",
                rule_id=names.bronze_replication_rule,
                account_id=names.account_id,
                source=bronze,
                source_region=settings.region,
                source_key_arn=self.lake_key.arn,
                destination=copy,
                destination_region=region,
                destination_key_arn=standby_key.arn,
                replication_time_control=settings.secondary_region.replication_time_control,
            ),
        )
        return copy.bucket

    def _streams(self) -> None:
        args = self._args
        names = args.names
        bronze = Bronze(self.bronze, self.lake_key.arn, args.logs_key_arn)
        self.cdc_stream = delivery_stream(
            self,
            StreamSpec("cdc", names.cdc_delivery_stream, lake.BRONZE_CDC_PREFIX),
            bronze,
            args.settings,
            names,
        )
        self.logs_stream = delivery_stream(
            self,
            StreamSpec(
                "logs",
                names.logs_delivery_stream,
                lake.BRONZE_LOGS_PREFIX,
                list(CLOUDWATCH_LOGS_PROCESSORS),
            ),
            bronze,
            args.settings,
            names,
        )
        self.lake_logs: LakeLogs = logs_subscription_role(self, names, self.logs_stream)
        subscribe_to_lake(self, "api", names.api_function, args.api_log_group_name, self.lake_logs)

    def _cdc(self) -> None:
        args = self._args
        names, cdc = args.names, args.settings.cdc
        self.dead_letter_queue = dead_letter_queue(self, "cdc-dlq", names.cdc_dead_letter_queue)
        statements = [
            *read_stream_statements(args.stream_arn, args.table_arn, self.dead_letter_queue.arn),
            iam.kms_user(args.table_key_arn, ["kms:Decrypt"], sid="DecryptStreamRecords"),
            iam.allow(
                ["firehose:PutRecord", "firehose:PutRecordBatch"],
                [self.cdc_stream.arn],
                sid="DeliverToCdcStream",
            ),
        ]
        environment: Dict[str, pulumi.Input[str]] = {
            "STAGE": args.settings.stage,
            "FIREHOSE_STREAM_NAME": self.cdc_stream.name,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_SERVICE_NAME": CDC_PROCESSOR.package,
            "LOG_LEVEL": cdc.function.log_level,
        }
        spec = FunctionSpec(
            CDC_PROCESSOR,
            names.cdc_function,
            cdc.function,
            environment,
            statements,
            args.logs_key_arn,
        )
        self.cdc: ServiceFunction = service_function(self, spec, args.settings, args.artifacts)
        self.cdc_function = self.cdc.function
        subscribe_to_lake(self, "cdc", names.cdc_function, self.cdc.log_group.name, self.lake_logs)
        self.event_source_mapping = aws.lambda_.EventSourceMapping(
            "cdc-stream-mapping",
            event_source_arn=args.stream_arn,
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

    def _pii_secret(self) -> aws.secretsmanager.Secret:
        """The keyed-hash key that pseudonymises PII in silver and gold (the jobs only)."""
        self.pii_hmac_key = random.RandomPassword(
            "pii-hmac-key", length=64, special=False, opts=child(self)
        )
        return stored_secret(
            self,
            "pii-hmac",
            self._args.names.pii_hmac_secret,
            "Keyed hash of PII in the lake (read by the silver and gold jobs only)",
            self._args.secrets_key_arn,
            self.pii_hmac_key.result,
            # Without this key a lake rebuilt elsewhere could not reproduce its pseudonyms.
            replica=self._args.standby_secrets,
        )

    def _job_arguments(self) -> Dict[str, pulumi.Input[str]]:
        return {
            "--BRONZE_BUCKET": self.bronze.bucket,
            "--SILVER_BUCKET": self.silver.bucket,
            "--GOLD_BUCKET": self.gold.bucket,
            "--DATABASE_NAME": self.glue_database.name,
            "--STAGE": self._args.settings.stage,
            "--PII_HMAC_SECRET_ID": self.pii_hmac_secret.arn,
        }

    def _gold_engine(self) -> Tuple[str, Dict[str, pulumi.Input[str]], List[iam.Statement]]:
        """Gold's ``--ENGINE`` and, for Athena, its workgroup and the actions it needs."""
        args = self._args
        engine = args.settings.etl.gold_job_engine
        arguments: Dict[str, pulumi.Input[str]] = {"--ENGINE": engine}
        statements: List[iam.Statement] = []
        if engine == "athena":
            names = args.names
            arguments["--ATHENA_WORKGROUP"] = names.athena_workgroup
            workgroup_arn = (
                f"arn:aws:athena:{names.region}:{names.account_id}"
                f":workgroup/{names.athena_workgroup}"
            )
            statements.append(
                iam.allow(ATHENA_QUERY_ACTIONS, [workgroup_arn], sid="QueryInWorkgroup")
            )
        return engine, arguments, statements

    def _glue(self) -> None:
        args = self._args
        settings, names = args.settings, args.names
        self.glue_database = aws.glue.CatalogDatabase(
            "glue-database",
            name=names.glue_database,
            description=f"Todo analytics, silver and gold tables ({settings.stage})",
            opts=child(self),
        )
        # Silver's clear-text PII tables live apart, so access to them is
        # granted on its own (gold reads them only to pseudonymise).
        self.glue_pii_database = aws.glue.CatalogDatabase(
            "glue-pii-database",
            name=names.glue_pii_database,
            description=f"Todo analytics, silver tables with personal data ({settings.stage})",
            opts=child(self),
        )
        self.pii_hmac_secret = self._pii_secret()
        common = self._job_arguments()
        on_spark = settings.etl.engine == "spark"
        security = self._spark_security_configuration() if on_spark else None

        def access(reads: List[aws.s3.Bucket], writes: List[aws.s3.Bucket]) -> LakeAccess:
            return LakeAccess(
                reads,
                writes,
                self.lake_key.arn,
                (names.glue_database, names.glue_pii_database),
                self.pii_hmac_secret.arn,
                args.secrets_key_arn,
            )

        silver = GlueJobSpec(
            ETL_SILVER,
            names.silver_job,
            self._bundle(ETL_SILVER),
            access([self.bronze], [self.silver]),
            common,
            spark=self._spark_runtime(ETL_SILVER, names.silver_job, security),
        )
        engine, engine_arguments, engine_statements = self._gold_engine()
        gold = GlueJobSpec(
            ETL_GOLD,
            names.gold_job,
            self._bundle(ETL_GOLD),
            access([self.silver], [self.gold]),
            {**common, **engine_arguments},
            engine=engine,
            extra_statements=engine_statements,
            spark=self._spark_runtime(ETL_GOLD, names.gold_job, security),
        )
        place = (self.artifacts_bucket, settings.etl, names.region, names.account_id)
        self.silver_job = glue_job(self, silver, *place)
        self.gold_job = glue_job(self, gold, *place)
        self._workflow()

    def _bundle(self, job: Deployable) -> GlueArtifact:
        """The job's built code for the stage's engine."""
        artifacts = self._args.artifacts
        if self._args.settings.etl.engine == "spark":
            return artifacts.glue_spark_job(job)
        return artifacts.glue_job(job)

    def _spark_security_configuration(self) -> aws.glue.SecurityConfiguration:
        """What the Spark jobs write is encrypted with the lake key (S3 and bookmarks).

        Their logs are not encrypted by Glue (``DISABLED``): Glue would then
        write to groups of its own naming, without retention. They go to log
        groups declared here instead (``--custom-logGroup-prefix``), with the
        stage's retention and encrypted with the logs key like every other.
        """
        key = self.lake_key.arn
        encryption = aws.glue.SecurityConfigurationEncryptionConfigurationArgs(
            cloudwatch_encryption=aws.glue.SecurityConfigurationEncryptionConfigurationCloudwatchEncryptionArgs(
                cloudwatch_encryption_mode="DISABLED"
            ),
            job_bookmarks_encryption=aws.glue.SecurityConfigurationEncryptionConfigurationJobBookmarksEncryptionArgs(
                job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=key
            ),
            s3_encryption=aws.glue.SecurityConfigurationEncryptionConfigurationS3EncryptionArgs(
                s3_encryption_mode="SSE-KMS", kms_key_arn=key
            ),
        )
        return aws.glue.SecurityConfiguration(
            "glue-spark-security",
            name=spark_security_configuration_name(self._args.names),
            encryption_configuration=encryption,
            opts=child(self),
        )

    def _spark_runtime(
        self,
        job: Deployable,
        job_name: str,
        security: Optional[aws.glue.SecurityConfiguration],
    ) -> Optional[SparkRuntime]:
        """On a Spark stage: the job's workers, security configuration and log groups."""
        settings = self._args.settings
        if security is None:
            return None
        prefix = spark_log_group_prefix(job_name)
        groups = [
            log_group(
                self,
                f"{job.key}-spark-{stream}-logs",
                f"{prefix}/{stream}",
                settings,
                self._args.logs_key_arn,
            )
            for stream in GLUE_SPARK_LOG_STREAMS
        ]
        return SparkRuntime(
            workers=settings.etl.spark.of_job(job.key),
            security_configuration=security.name,
            log_group_prefix=prefix,
            log_groups=groups,
        )

    def _workflow(self) -> None:
        etl, names = self._args.settings.etl, self._args.names
        self.workflow = aws.glue.Workflow(
            "lake-refresh",
            name=names.lake_workflow,
            description="Silver, then gold, on a schedule",
            max_concurrent_runs=1,
            opts=child(self),
        )
        self.silver_trigger = aws.glue.Trigger(
            "silver-schedule",
            name=names.silver_schedule_trigger,
            workflow_name=self.workflow.name,
            type="SCHEDULED",
            schedule=etl.schedule,
            enabled=etl.schedule_enabled,
            start_on_creation=etl.schedule_enabled,
            actions=[aws.glue.TriggerActionArgs(job_name=self.silver_job.name)],
            opts=child(self),
        )
        self.gold_trigger = aws.glue.Trigger(
            "gold-after-silver",
            name=names.gold_after_silver_trigger,
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

    def _athena(self) -> aws.athena.Workgroup:
        settings, names = self._args.settings, self._args.names
        return aws.athena.Workgroup(
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
