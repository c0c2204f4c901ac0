"""Glue Spark: a stage set to Spark deploys glueetl jobs; a Python-shell stage stays as it was.

Spark runs are the committed Spark stages (staging, prod) and dev switched to
Spark with sizes no committed stage uses (``harness.etl_engine_config``), so
what the jobs get is seen to come from the configuration.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Set, Tuple

import pytest
import tomllib
from harness import (
    ACCOUNT_ID,
    DUMMY_GLUE_SPARK_PINS,
    REPO_ROOT,
    SPARK_BUNDLE_WHEELS,
    StackRun,
    deployable_config,
    etl_engine_config,
    stack_file_config,
)

from todo_core.naming import ResourceNames
from todo_platform import permissions
from todo_platform.artifacts import ETL_GOLD, ETL_SILVER, GLUE_SPARK_PYTHON_VERSION, Deployable
from todo_platform.etl import spark_log_group_prefix, spark_security_configuration_name
from todo_platform.glue import GLUE_SPARK_VERSION, SPARK_OF_GLUE_VERSION
from todo_platform.policies import GLUE_JOB, GLUE_SECURITY_CONFIGURATION, LOG_GROUP, METRIC_ALARM

JOBS = [(ETL_SILVER, "silver"), (ETL_GOLD, "gold")]
JOB_IDS = ["silver", "gold"]
#: Arguments only a Spark job takes (the Python-shell jobs' are the rest).
SPARK_ONLY_ARGUMENTS = (
    "--job-bookmark-option",
    "--enable-auto-scaling",
    "--custom-logGroup-prefix",
)
LAKE_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/lake-key-0000-1111"
LOGS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/logs-key-0000-1111"

SparkRun = Tuple[StackRun, Dict[str, Any]]


def names(run: StackRun) -> ResourceNames:
    return ResourceNames(run.stage, ACCOUNT_ID, "us-east-1")


def job_name(run: StackRun, deployable: Deployable) -> str:
    return names(run).silver_job if deployable is ETL_SILVER else names(run).gold_job


def arguments(run: StackRun, key: str) -> Dict[str, str]:
    return dict(run.named(f"{key}-job").inputs["defaultArguments"])


@pytest.fixture(
    params=[("staging", None), ("prod", None), ("dev", "spark")],
    ids=["staging", "prod", "dev-switched"],
)
def spark(
    request: pytest.FixtureRequest,
    stack_runs: Callable[[str], StackRun],
    engine_runs: Callable[[str, str], StackRun],
) -> SparkRun:
    """A stage on Spark, and the ``etl`` section it was deployed with."""
    stage, switch = request.param
    config = deployable_config(stage)
    if switch:
        return engine_runs(stage, switch), etl_engine_config(config, switch)["todo-platform:etl"]
    assert config["todo-platform:etl"]["engine"] == "spark"
    return stack_runs(stage), config["todo-platform:etl"]


@pytest.fixture(params=["staging", "dev"])
def both_engines(
    request: pytest.FixtureRequest, engine_runs: Callable[[str, str], StackRun]
) -> Tuple[StackRun, StackRun]:
    """One stage on the Python shell and on Spark: (python shell, spark)."""
    return engine_runs(request.param, "pythonshell"), engine_runs(request.param, "spark")


# --- the jobs -------------------------------------------------------------------------------


@pytest.mark.parametrize(("deployable", "key"), JOBS, ids=JOB_IDS)
def test_jobs_are_glueetl_on_glue_5_sized_from_the_configuration(
    spark: SparkRun, deployable: Deployable, key: str
) -> None:
    run, etl = spark
    job = run.named(f"{key}-job").inputs
    assert job["name"] == job_name(run, deployable)
    assert job["glueVersion"] == GLUE_SPARK_VERSION == "5.1"
    assert job["command"]["name"] == "glueetl"
    assert job["command"]["pythonVersion"] == "3"
    assert job["workerType"] == etl["spark"][key]["workerType"]
    assert job["numberOfWorkers"] == etl["spark"][key]["numberOfWorkers"]
    assert "maxCapacity" not in job
    assert job["timeout"] == etl["glueTimeoutMinutes"]
    assert job["maxRetries"] == etl["glueMaxRetries"]
    assert job["executionProperty"] == {"maxConcurrentRuns": 1}
    assert deployable.spark_entry
    assert deployable.spark_entry in job["description"]


@pytest.mark.parametrize(("deployable", "key"), JOBS, ids=JOB_IDS)
def test_glue_runs_the_generated_launcher_and_installs_the_bundles_wheels(
    spark: SparkRun, deployable: Deployable, key: str
) -> None:
    run, _ = spark
    bucket = names(run).artifacts_bucket
    entry = deployable.spark_entry or ""
    script = run.named(f"{key}-script").inputs
    assert script["bucket"] == bucket
    assert (
        script["key"] == f"glue/{deployable.package}/{entry.replace('.', '_').replace(':', '_')}.py"
    )
    assert run.named(f"{key}-job").inputs["command"]["scriptLocation"] == (
        f"s3://{bucket}/{script['key']}"
    )
    wheels = {r.name: r.inputs for r in run.records if r.name.startswith(f"{key}-wheel-")}
    assert sorted(wheels) == sorted(f"{key}-wheel-{w}" for w in SPARK_BUNDLE_WHEELS)
    assert all(w["key"].startswith(f"glue/{deployable.package}/wheels/") for w in wheels.values())
    modules = arguments(run, key)["--additional-python-modules"]
    assert modules == ",".join(
        [*sorted(f"s3://{bucket}/{w['key']}" for w in wheels.values()), *DUMMY_GLUE_SPARK_PINS]
    )
    # Glue provides Spark: a pyspark of the bundle's own would shadow it.
    assert "pyspark" not in modules
    assert "py4j" not in modules


@pytest.mark.parametrize(("deployable", "key"), JOBS, ids=JOB_IDS)
def test_the_jobs_take_the_python_shell_jobs_arguments(
    both_engines: Tuple[StackRun, StackRun], deployable: Deployable, key: str
) -> None:
    shell_run, spark_run = both_engines
    shell, on_spark = arguments(shell_run, key), arguments(spark_run, key)
    differ = {*SPARK_ONLY_ARGUMENTS, "--additional-python-modules", "--ENGINE"}

    def same(args: Dict[str, str]) -> Dict[str, str]:
        return {k: v for k, v in args.items() if k not in differ}

    assert same(on_spark) == same(shell)
    assert {"--BRONZE_BUCKET", "--SILVER_BUCKET", "--GOLD_BUCKET", "--PII_HMAC_SECRET_ID"} <= set(
        on_spark
    )
    assert on_spark["--job-bookmark-option"] == "job-bookmark-disable"
    assert on_spark["--enable-auto-scaling"] == "true"
    assert on_spark["--custom-logGroup-prefix"] == spark_log_group_prefix(
        job_name(spark_run, deployable)
    )
    if deployable is ETL_GOLD:
        assert (shell["--ENGINE"], on_spark["--ENGINE"]) == ("duckdb", "spark")
        assert "--ATHENA_WORKGROUP" not in on_spark
    else:
        assert "--ENGINE" not in on_spark


# --- encryption and logs ----------------------------------------------------------------------


def test_what_the_jobs_write_is_encrypted_with_the_lake_key(spark: SparkRun) -> None:
    run, _ = spark
    config = run.one(GLUE_SECURITY_CONFIGURATION).inputs
    assert config["name"] == spark_security_configuration_name(names(run))
    assert config["name"] == f"todo-lake-spark-{run.stage}"
    encryption = config["encryptionConfiguration"]
    assert encryption["s3Encryption"] == {"s3EncryptionMode": "SSE-KMS", "kmsKeyArn": LAKE_KEY}
    assert encryption["jobBookmarksEncryption"] == {
        "jobBookmarksEncryptionMode": "CSE-KMS",
        "kmsKeyArn": LAKE_KEY,
    }
    # Logs: encrypted by their declared groups (next test), not by Glue.
    assert encryption["cloudwatchEncryption"] == {"cloudwatchEncryptionMode": "DISABLED"}
    for key in ("silver", "gold"):
        assert run.named(f"{key}-job").inputs["securityConfiguration"] == config["name"]


@pytest.mark.parametrize(("deployable", "key"), JOBS, ids=JOB_IDS)
def test_each_job_logs_to_its_own_groups_with_retention_and_the_logs_key(
    spark: SparkRun, deployable: Deployable, key: str
) -> None:
    run, _ = spark
    prefix = arguments(run, key)["--custom-logGroup-prefix"]
    assert prefix == f"/aws-glue/jobs/{job_name(run, deployable)}"
    retention = stack_file_config(run.stage)["todo-platform:logs"]["retentionDays"]
    for stream in ("output", "error"):
        group = run.named(f"{key}-spark-{stream}-logs").inputs
        assert group["name"] == f"{prefix}/{stream}"
        assert group["retentionInDays"] == retention
        assert group["kmsKeyId"] == LOGS_KEY
    # The role may write there: the /aws-glue/ groups of its account and region.
    statements = json.loads(run.named(f"{key}-job-policy").inputs["policy"])["Statement"]
    logs = {s["Sid"]: s for s in statements}["GlueLogs"]
    assert logs["Resource"] == [f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws-glue/*:*"]


# --- IAM ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("deployable", "key"), JOBS, ids=JOB_IDS)
def test_the_role_grants_what_the_job_and_its_spark_bundle_declare(
    spark: SparkRun, deployable: Deployable, key: str
) -> None:
    run, etl = spark
    statements = json.loads(run.named(f"{key}-job-policy").inputs["policy"])["Statement"]
    engine = etl["goldEngine"] if deployable is ETL_GOLD else None
    assert permissions.missing_actions(deployable, statements, engine, spark=True) == []
    required = set(permissions.declared_for(deployable, spark=True).required(engine))
    assert set(permissions.declared(deployable).actions) <= required
    assert deployable.spark_bundle == "todo-lake-spark"
    assert deployable.spark_bundle_path == "etl/spark"


@pytest.mark.parametrize("key", ["silver", "gold"])
def test_the_role_is_the_python_shell_jobs_role(
    both_engines: Tuple[StackRun, StackRun], key: str
) -> None:
    """Same reads, writes, catalog, secret and metrics on either engine (same logical names)."""
    shell_run, spark_run = both_engines

    def by_sid(run: StackRun) -> Dict[str, Any]:
        policy = json.loads(run.named(f"{key}-job-policy").inputs["policy"])
        return {s["Sid"]: s for s in policy["Statement"]}

    shell, on_spark = by_sid(shell_run), by_sid(spark_run)
    assert {sid: on_spark.get(sid) for sid in shell} == shell
    assert shell_run.named(f"{key}-job-role").inputs == spark_run.named(f"{key}-job-role").inputs


# --- alarms, schedule ---------------------------------------------------------------------------


def _watchers(run: StackRun) -> Dict[Tuple[str, str], Any]:
    kinds = (
        METRIC_ALARM,
        "aws:cloudwatch/eventRule:EventRule",
        "aws:cloudwatch/eventTarget:EventTarget",
        "aws:glue/workflow:Workflow",
        "aws:glue/trigger:Trigger",
    )
    return {(r.type, r.name): r.inputs for r in run.records if r.type in kinds}


def test_alarms_rules_and_schedule_are_the_python_shell_jobs(
    both_engines: Tuple[StackRun, StackRun],
) -> None:
    shell_run, spark_run = both_engines
    assert _watchers(spark_run) == _watchers(shell_run)
    failures = json.loads(spark_run.named("glue-job-failures").inputs["eventPattern"])
    assert sorted(failures["detail"]["jobName"]) == sorted(
        [names(spark_run).silver_job, names(spark_run).gold_job]
    )
    assert failures["detail"]["state"] == ["FAILED", "TIMEOUT", "ERROR"]


# --- switching engines ---------------------------------------------------------------------------


def _shape(run: StackRun) -> Set[Tuple[str, str]]:
    return {(r.type, r.name) for r in run.records}


def test_switching_a_stage_to_spark_only_adds_resources(
    both_engines: Tuple[StackRun, StackRun],
) -> None:
    """Every Python-shell resource keeps its logical name (an update, never a replacement
    under another name); Spark adds its security configuration, log groups and the wheels
    its bundle has beyond the job's own."""
    shell_run, spark_run = both_engines
    shell, on_spark = _shape(shell_run), _shape(spark_run)
    assert shell - on_spark == set()
    shell_wheels = {name for _, name in shell if "-wheel-" in name}
    expected = {(GLUE_SECURITY_CONFIGURATION, "glue-spark-security")}
    for key in ("silver", "gold"):
        expected |= {(LOG_GROUP, f"{key}-spark-{s}-logs") for s in ("output", "error")}
        expected |= {
            ("aws:s3/bucketObjectv2:BucketObjectv2", f"{key}-wheel-{w}")
            for w in SPARK_BUNDLE_WHEELS
            if f"{key}-wheel-{w}" not in shell_wheels
        }
    assert on_spark - shell == expected
    for key in ("silver", "gold"):
        # Same physical name: the job is updated in place, its runs' history kept.
        assert (
            shell_run.named(f"{key}-job").inputs["name"]
            == spark_run.named(f"{key}-job").inputs["name"]
        )
    # A wheel both bundles ship is the same object (content-addressed key, same bytes):
    # Pulumi sees no change.
    before, after = (
        run.named("silver-wheel-todo_core").inputs for run in (shell_run, spark_run)
    )
    assert {k: v for k, v in before.items() if k != "source"} == {
        k: v for k, v in after.items() if k != "source"
    }
    assert Path(before["source"].path).read_bytes() == Path(after["source"].path).read_bytes()


#: What a Python-shell stage declares for its Glue jobs: the names the program
#: has always used. A change here replaces deployed resources.
PYTHON_SHELL_GLUE_RESOURCES = {
    ("aws:glue/catalogDatabase:CatalogDatabase", "glue-database"),
    ("aws:glue/catalogDatabase:CatalogDatabase", "glue-pii-database"),
    (GLUE_JOB, "silver-job"),
    (GLUE_JOB, "gold-job"),
    ("aws:glue/workflow:Workflow", "lake-refresh"),
    ("aws:glue/trigger:Trigger", "silver-schedule"),
    ("aws:glue/trigger:Trigger", "gold-after-silver"),
    ("aws:iam/role:Role", "silver-job-role"),
    ("aws:iam/role:Role", "gold-job-role"),
    ("aws:iam/rolePolicy:RolePolicy", "silver-job-policy"),
    ("aws:iam/rolePolicy:RolePolicy", "gold-job-policy"),
    ("aws:s3/bucketObjectv2:BucketObjectv2", "silver-script"),
    ("aws:s3/bucketObjectv2:BucketObjectv2", "silver-wheel-todo_core"),
    ("aws:s3/bucketObjectv2:BucketObjectv2", "silver-wheel-todo_etl_silver"),
    ("aws:s3/bucketObjectv2:BucketObjectv2", "gold-script"),
    ("aws:s3/bucketObjectv2:BucketObjectv2", "gold-wheel-todo_core"),
    ("aws:s3/bucketObjectv2:BucketObjectv2", "gold-wheel-todo_etl_gold"),
}


def _glue_resources(run: StackRun) -> Set[Tuple[str, str]]:
    return {
        (r.type, r.name)
        for r in run.records
        if r.type.startswith("aws:glue/")
        or r.name.startswith(("silver-job", "gold-job", "silver-script", "gold-script"))
        or "-wheel-" in r.name
        or str(r.inputs.get("name", "")).startswith("/aws-glue/")
    }


def test_a_python_shell_stage_declares_exactly_the_glue_resources_it_always_did(
    engine_runs: Callable[[str, str], StackRun],
) -> None:
    for stage in ("dev", "staging"):
        run = engine_runs(stage, "pythonshell")
        assert _glue_resources(run) == PYTHON_SHELL_GLUE_RESOURCES, stage
        for key in ("silver", "gold"):
            job = run.named(f"{key}-job").inputs
            assert (job["glueVersion"], job["command"]["name"]) == ("3.0", "pythonshell")
            assert not set(SPARK_ONLY_ARGUMENTS) & set(job["defaultArguments"])
            assert "securityConfiguration" not in job


# --- one source of truth -----------------------------------------------------------------------


def test_the_glue_version_runs_the_spark_the_spark_package_is_tested_with() -> None:
    spark = tomllib.loads((REPO_ROOT / "etl" / "spark" / "pyproject.toml").read_text())
    pins: List[str] = [
        r.replace(" ", "") for r in spark["dependency-groups"]["test"] if r.startswith("pyspark")
    ]
    assert pins == [f"pyspark=={SPARK_OF_GLUE_VERSION[GLUE_SPARK_VERSION]}"]


def test_the_bundle_is_built_for_the_spark_packages_python() -> None:
    listed = tomllib.loads((REPO_ROOT / "deployables.toml").read_text())["package"]
    (spark,) = [p for p in listed if p["name"] == "todo-lake-spark"]
    assert spark["pythons"] == [GLUE_SPARK_PYTHON_VERSION]
    builder = REPO_ROOT / "platform/artifacts/src/todo_artifacts/glue_spark_artifact.py"
    assert f'GLUE_SPARK_PYTHON = "{GLUE_SPARK_PYTHON_VERSION}"' in builder.read_text()
