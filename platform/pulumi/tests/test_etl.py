"""TodoEtl: lake buckets, delivery streams, CDC, Glue jobs and Athena."""

from __future__ import annotations

import json
from typing import Dict

import pytest
from harness import ACCOUNT_ID, DUMMY_GLUE_PINS, StackRun, stack_file_config

from todo_core import lake
from todo_core.naming import ETL_METRICS_NAMESPACE, METRICS_NAMESPACE, ResourceNames
from todo_platform.policies import BUCKET, FIREHOSE

LAYERS = ("bronze", "silver", "gold")


def names(run: StackRun) -> ResourceNames:
    return ResourceNames(run.stage, ACCOUNT_ID, "us-east-1")


def lake_config(run: StackRun) -> dict:
    return stack_file_config(run.stage)["todo-platform:lake"]


def test_buckets_are_the_runbooks_plus_artifacts(run: StackRun) -> None:
    n = names(run)
    in_stage_region = [b for b in run.of_type(BUCKET) if "region" not in b.inputs]
    assert sorted(b.inputs["bucket"] for b in in_stage_region) == sorted(
        [n.bronze_bucket, n.silver_bucket, n.gold_bucket, n.artifacts_bucket]
    )
    assert (
        run.outputs["BronzeBucketName"]
        == n.bronze_bucket
        == f"todo-bronze-{ACCOUNT_ID}-us-east-1-{run.stage}"
    )
    assert run.outputs["SilverBucketName"] == n.silver_bucket
    assert run.outputs["GoldBucketName"] == n.gold_bucket
    for bucket in run.of_type(BUCKET):
        assert bucket.inputs["forceDestroy"] is lake_config(run)["forceDestroy"]


@pytest.mark.parametrize("key", [*LAYERS, "artifacts"])
def test_every_bucket_is_versioned_private_kms_encrypted_and_tls_only(
    run: StackRun, key: str
) -> None:
    bucket = run.named(f"{key}-bucket").inputs["bucket"]
    assert run.named(f"{key}-versioning").inputs == {
        "bucket": bucket,
        "versioningConfiguration": {"status": "Enabled"},
    }
    sse = run.named(f"{key}-encryption").inputs["rules"][0]
    assert sse["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/lake-key-0000-1111",
    }
    assert sse["bucketKeyEnabled"] is True
    block = run.named(f"{key}-public-access-block").inputs
    assert all(
        block[k] is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    assert run.named(f"{key}-ownership").inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"
    }
    (statement,) = json.loads(run.named(f"{key}-tls-only").inputs["policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def rules(run: StackRun, key: str) -> Dict[str, dict]:
    return {r["id"]: r for r in run.named(f"{key}-lifecycle").inputs["rules"]}


def test_bronze_follows_the_runbooks_lifecycle(run: StackRun) -> None:
    schedule = rules(run, "bronze")["storage-class-schedule"]
    assert [(t["storageClass"], t["days"]) for t in schedule["transitions"]] == [
        ("STANDARD_IA", 30),
        ("GLACIER", 90),
        ("DEEP_ARCHIVE", 365),
    ]
    assert schedule["expiration"] == {"days": 7 * 365}
    assert schedule["filter"] == {}
    assert schedule["status"] == "Enabled"


@pytest.mark.parametrize("layer", ["silver", "gold"])
def test_queried_layers_stay_readable_by_athena(run: StackRun, layer: str) -> None:
    """Athena cannot read GLACIER or DEEP_ARCHIVE objects; Glacier Instant Retrieval it can."""
    schedule = rules(run, layer)["storage-class-schedule"]
    assert [(t["storageClass"], t["days"]) for t in schedule["transitions"]] == [
        ("STANDARD_IA", 30),
        ("GLACIER_IR", 90),
    ]
    assert schedule["expiration"] == {"days": 2555}


@pytest.mark.parametrize("key", [*LAYERS, "artifacts"])
def test_old_versions_and_abandoned_uploads_are_cleaned(run: StackRun, key: str) -> None:
    housekeeping = rules(run, key)["housekeeping"]
    config = lake_config(run)
    days = (
        config["artifactsNoncurrentVersionExpirationDays"]
        if key == "artifacts"
        else config[key]["noncurrentVersionExpirationDays"]
    )
    assert housekeeping["noncurrentVersionExpiration"] == {"noncurrentDays": days}
    assert housekeeping["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}


def test_athena_results_expire(run: StackRun) -> None:
    rule = rules(run, "gold")["expire-athena-results"]
    assert rule["filter"] == {"prefix": lake.ATHENA_RESULTS_PREFIX}
    assert rule["expiration"] == {"days": lake_config(run)["athenaResultsExpirationDays"]}


@pytest.mark.parametrize(
    ("key", "prefix"), [("cdc", lake.BRONZE_CDC_PREFIX), ("logs", lake.BRONZE_LOGS_PREFIX)]
)
def test_delivery_streams_partition_by_date_and_gzip(run: StackRun, key: str, prefix: str) -> None:
    stream = run.named(f"{key}-stream").inputs
    n = names(run)
    assert stream["name"] == (n.cdc_delivery_stream if key == "cdc" else n.logs_delivery_stream)
    s3 = stream["extendedS3Configuration"]
    assert s3["bucketArn"] == f"arn:aws:s3:::{n.bronze_bucket}"
    assert s3["prefix"] == prefix + lake.DATE_PARTITION_EXPRESSION
    assert s3["errorOutputPrefix"] == (
        f"{lake.BRONZE_ERROR_PREFIX}{prefix}!{{firehose:error-output-type}}/{lake.DATE_PARTITION_EXPRESSION}"
    )
    assert s3["compressionFormat"] == "GZIP"
    assert s3["bufferingInterval"] == lake_config(run)["firehoseBufferingIntervalSeconds"]
    assert s3["bufferingSize"] == lake_config(run)["firehoseBufferingSizeMb"]
    assert (
        s3["cloudwatchLoggingOptions"]["logGroupName"] == f"/aws/kinesisfirehose/{stream['name']}"
    )
    assert stream["serverSideEncryption"]["keyType"] == "CUSTOMER_MANAGED_CMK"
    assert run.outputs["FirehoseStreamName"] == n.cdc_delivery_stream
    assert run.outputs["LogsFirehoseStreamName"] == n.logs_delivery_stream


def test_firehose_writes_only_its_prefixes_of_bronze(run: StackRun) -> None:
    bronze = f"arn:aws:s3:::{names(run).bronze_bucket}"
    for key, prefix in (("cdc", "cdc/"), ("logs", "logs/")):
        statements = {
            s["Sid"]: s
            for s in json.loads(run.named(f"{key}-stream-policy").inputs["policy"])["Statement"]
        }
        assert statements["WriteBronzeObjects"]["Resource"] == [
            f"{bronze}/{prefix}*",
            f"{bronze}/errors/*",
        ]
        assert statements["ListBronze"]["Resource"] == [bronze]


def test_logs_stream_unpacks_cloudwatch_logs_envelopes(run: StackRun) -> None:
    processing = run.named("logs-stream").inputs["extendedS3Configuration"][
        "processingConfiguration"
    ]
    assert processing["enabled"] is True
    assert [p["type"] for p in processing["processors"]] == [
        "Decompression",
        "CloudWatchLogProcessing",
        "AppendDelimiterToRecord",
    ]
    assert (
        "processingConfiguration" not in run.named("cdc-stream").inputs["extendedS3Configuration"]
    )


def test_api_log_group_feeds_the_logs_stream(run: StackRun) -> None:
    subscription = run.named("api-logs-to-lake").inputs
    n = names(run)
    assert subscription["logGroup"] == n.api_log_group
    assert subscription["filterPattern"] == ""
    assert subscription["destinationArn"].endswith(f"deliverystream/{n.logs_delivery_stream}")
    trust = json.loads(run.named("logs-subscription-role").inputs["assumeRolePolicy"])["Statement"][
        0
    ]
    assert trust["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    (grant,) = json.loads(run.named("logs-subscription-policy").inputs["policy"])["Statement"]
    assert grant["Action"] == ["firehose:PutRecord", "firehose:PutRecordBatch"]
    assert grant["Resource"] == [subscription["destinationArn"]]


def test_every_functions_log_group_feeds_the_logs_stream(run: StackRun) -> None:
    """The CDC processor's and the metrics collector's logs reach bronze too, with one role."""
    n = names(run)
    logs_stream = run.named("logs-stream").inputs["name"]
    role_arn = run.named("logs-subscription-role")
    for key, function_name in (
        ("api", n.api_function),
        ("cdc", n.cdc_function),
        ("kpi", n.kpi_function),
        ("metrics", n.metrics_function),
    ):
        subscription = run.named(f"{key}-logs-to-lake").inputs
        assert subscription["name"] == f"{function_name}-to-lake"
        assert subscription["logGroup"] == f"/aws/lambda/{function_name}"
        assert subscription["filterPattern"] == ""
        assert subscription["destinationArn"].endswith(f"deliverystream/{logs_stream}")
        assert subscription["roleArn"].endswith(":role/logs-subscription-role-1234567")
    assert role_arn.inputs["description"].startswith("CloudWatch Logs delivers")
    filters = run.of_type("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")
    primary_functions = [
        f for f in run.of_type("aws:lambda/function:Function") if "region" not in f.inputs
    ]
    assert len(filters) == len(primary_functions) == 4


def test_cdc_function_and_its_environment(run: StackRun) -> None:
    fn = run.named("cdc-function").inputs
    config = stack_file_config(run.stage)["todo-platform:cdc"]
    assert fn["name"] == names(run).cdc_function
    assert fn["handler"] == "cdc_processor.handler.lambda_handler"
    assert fn["memorySize"] == config["function"]["memoryMb"]
    assert fn["timeout"] == config["function"]["timeoutSeconds"]
    assert fn.get("reservedConcurrentExecutions") == config["function"]["reservedConcurrency"]
    assert fn["environment"]["variables"] == {
        "STAGE": run.stage,
        "FIREHOSE_STREAM_NAME": names(run).cdc_delivery_stream,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_SERVICE_NAME": "todo-cdc-processor",
        "LOG_LEVEL": config["function"]["logLevel"],
    }


def test_stream_mapping_retries_bisects_and_parks_failures(run: StackRun) -> None:
    mapping = run.named("cdc-stream-mapping").inputs
    config = stack_file_config(run.stage)["todo-platform:cdc"]
    assert mapping["eventSourceArn"].startswith(
        f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/todo-app-data-{run.stage}/stream/"
    )
    assert mapping["functionName"].endswith(f":function:{names(run).cdc_function}")
    assert mapping["batchSize"] == config["batchSize"]
    assert mapping["maximumBatchingWindowInSeconds"] == config["maximumBatchingWindowSeconds"]
    assert mapping["bisectBatchOnFunctionError"] is True
    assert mapping["maximumRetryAttempts"] == config["maximumRetryAttempts"]
    assert mapping["maximumRecordAgeInSeconds"] == config["maximumRecordAgeSeconds"]
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    dlq_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:{names(run).cdc_dead_letter_queue}"
    assert mapping["destinationConfig"] == {"onFailure": {"destinationArn": dlq_arn}}
    dlq = run.named("cdc-dlq").inputs
    assert dlq["name"] == names(run).cdc_dead_letter_queue
    assert dlq["sqsManagedSseEnabled"] is True
    assert dlq["messageRetentionSeconds"] == 14 * 24 * 3600


def test_the_stream_mapping_retries_by_record_age_and_leaves_time_to_redrive(
    run: StackRun,
) -> None:
    """A Firehose outage is ridden out by record age, not by a retry count that
    runs out in seconds; what still fails is parked while the stream (24 h
    retention) still holds it, so the redrive command can read it back."""
    mapping = run.named("cdc-stream-mapping").inputs
    assert mapping["maximumRetryAttempts"] == -1
    assert 3600 <= mapping["maximumRecordAgeInSeconds"] <= 12 * 3600


def test_silvers_pii_tables_have_a_database_of_their_own(run: StackRun) -> None:
    database = run.named("glue-pii-database").inputs
    assert database["name"] == names(run).glue_pii_database == (
        f"{names(run).glue_database}_pii"
    )


def test_cdc_role_reads_the_stream_and_writes_only_its_targets(run: StackRun) -> None:
    statements = {
        s["Sid"]: s for s in json.loads(run.named("cdc-policy").inputs["policy"])["Statement"]
    }
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/todo-app-data-{run.stage}"
    assert statements["ReadTableStream"]["Resource"] == [f"{table}/stream/2025-01-01T00:00:00.000"]
    assert statements["ListTableStreams"]["Resource"] == [f"{table}/stream/*"]
    assert statements["DeliverToCdcStream"]["Resource"] == [
        f"arn:aws:firehose:us-east-1:{ACCOUNT_ID}:deliverystream/{names(run).cdc_delivery_stream}"
    ]
    assert statements["SendFailuresToDlq"]["Action"] == ["sqs:SendMessage"]
    assert not any(
        a.startswith("dynamodb:") and "Item" in a for s in statements.values() for a in s["Action"]
    )


def test_glue_database_and_athena_workgroup(run: StackRun) -> None:
    n = names(run)
    assert (
        run.named("glue-database").inputs["name"]
        == n.glue_database
        == run.outputs["GlueDatabaseName"]
    )
    workgroup = run.named("athena-workgroup").inputs
    assert workgroup["name"] == n.athena_workgroup == run.outputs["AthenaWorkgroupName"]
    config = workgroup["configuration"]
    assert config["enforceWorkgroupConfiguration"] is True
    assert (
        config["bytesScannedCutoffPerQuery"]
        == stack_file_config(run.stage)["todo-platform:etl"]["athenaBytesScannedCutoff"]
    )
    assert (
        config["resultConfiguration"]["outputLocation"]
        == f"s3://{n.gold_bucket}/{lake.ATHENA_RESULTS_PREFIX}"
    )
    assert config["resultConfiguration"]["encryptionConfiguration"]["encryptionOption"] == "SSE_KMS"


@pytest.mark.parametrize("stage", ["dev", "staging"])
@pytest.mark.parametrize(
    ("key", "package", "module"),
    [
        ("silver", "todo-etl-silver", "todo_silver.job"),
        ("gold", "todo-etl-gold", "todo_gold.job"),
    ],
)
def test_glue_jobs_are_python_shell_with_uploaded_code(
    engine_runs, stage: str, key: str, package: str, module: str
) -> None:  # type: ignore[no-untyped-def]
    """A stage on the Python shell (dev as committed; staging switched to it)."""
    run = engine_runs(stage, "pythonshell")
    n = names(run)
    job = run.named(f"{key}-job").inputs
    etl = stack_file_config(run.stage)["todo-platform:etl"]
    assert job["name"] == (n.silver_job if key == "silver" else n.gold_job)
    assert job["glueVersion"] == "3.0"
    assert job["command"]["name"] == "pythonshell"
    assert job["command"]["pythonVersion"] == "3.9"
    assert job["maxCapacity"] == 0.0625
    assert job["timeout"] == etl["glueTimeoutMinutes"]
    script = run.named(f"{key}-script").inputs
    assert script["bucket"] == n.artifacts_bucket
    assert script["key"] == f"glue/{package}/{module.replace('.', '_')}.py"
    assert job["command"]["scriptLocation"] == f"s3://{n.artifacts_bucket}/{script['key']}"
    wheels = [r.inputs for r in run.records if r.name.startswith(f"{key}-wheel-")]
    assert len(wheels) == 2
    # The job's own wheels from the artifacts bucket, then the builder's exact pins.
    assert job["defaultArguments"]["--additional-python-modules"] == ",".join(
        [*sorted(f"s3://{n.artifacts_bucket}/{w['key']}" for w in wheels), *DUMMY_GLUE_PINS]
    )
    assert all(w["key"].startswith(f"glue/{package}/wheels/") for w in wheels)
    args = job["defaultArguments"]
    assert {
        k: args[k]
        for k in (
            "--BRONZE_BUCKET",
            "--SILVER_BUCKET",
            "--GOLD_BUCKET",
            "--DATABASE_NAME",
            "--STAGE",
        )
    } == {
        "--BRONZE_BUCKET": n.bronze_bucket,
        "--SILVER_BUCKET": n.silver_bucket,
        "--GOLD_BUCKET": n.gold_bucket,
        "--DATABASE_NAME": n.glue_database,
        "--STAGE": run.stage,
    }
    assert module in job["description"]


def test_glue_roles_read_their_input_and_write_their_output_only(run: StackRun) -> None:
    n = names(run)

    def sids(key: str) -> dict:
        return {
            s["Sid"]: s
            for s in json.loads(run.named(f"{key}-job-policy").inputs["policy"])["Statement"]
        }

    silver, gold = sids("silver"), sids("gold")
    assert silver["ReadInput"]["Resource"] == [f"arn:aws:s3:::{n.bronze_bucket}/*"]
    assert silver["WriteOutput"]["Resource"] == [f"arn:aws:s3:::{n.silver_bucket}/*"]
    assert gold["ReadInput"]["Resource"] == [f"arn:aws:s3:::{n.silver_bucket}/*"]
    assert gold["WriteOutput"]["Resource"] == [f"arn:aws:s3:::{n.gold_bucket}/*"]
    assert silver["ReadOwnCode"]["Resource"] == [
        f"arn:aws:s3:::{n.artifacts_bucket}/glue/todo-etl-silver/*"
    ]
    for job in (silver, gold):
        assert job["LakeCatalog"]["Resource"] == [
            f"arn:aws:glue:us-east-1:{ACCOUNT_ID}:catalog",
            f"arn:aws:glue:us-east-1:{ACCOUNT_ID}:database/{n.glue_database}",
            f"arn:aws:glue:us-east-1:{ACCOUNT_ID}:database/{n.glue_pii_database}",
            f"arn:aws:glue:us-east-1:{ACCOUNT_ID}:table/{n.glue_database}/*",
            f"arn:aws:glue:us-east-1:{ACCOUNT_ID}:table/{n.glue_pii_database}/*",
        ]
    # The jobs publish their run metrics to the ETL namespace (and nowhere else).
    for job in (silver, gold):
        assert job["PutOwnMetrics"]["Condition"] == {
            "StringEquals": {"cloudwatch:namespace": ETL_METRICS_NAMESPACE}
        }


def test_silver_then_gold_on_a_schedule(run: StackRun) -> None:
    n = names(run)
    etl = stack_file_config(run.stage)["todo-platform:etl"]
    workflow = run.named("lake-refresh").inputs["name"]
    schedule = run.named("silver-schedule").inputs
    assert schedule["type"] == "SCHEDULED"
    assert schedule["schedule"] == etl["schedule"]
    assert schedule["enabled"] is etl["scheduleEnabled"]
    assert schedule["actions"] == [{"jobName": n.silver_job}]
    after = run.named("gold-after-silver").inputs
    assert after["type"] == "CONDITIONAL"
    assert after["predicate"]["conditions"] == [
        {"jobName": n.silver_job, "state": "SUCCEEDED", "logicalOperator": "EQUALS"}
    ]
    assert after["actions"] == [{"jobName": n.gold_job}]
    assert schedule["workflowName"] == after["workflowName"] == workflow


def test_two_delivery_streams(run: StackRun) -> None:
    assert len(run.of_type(FIREHOSE)) == 2
