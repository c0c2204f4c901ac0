"""A Glue job from its built artifact: code objects, role, job.

The same job (name, logical names, role, schedule, alarms) runs on one of two
engines (``etl.engine``): a Python-shell worker (Glue 3.0, Python 3.9) from
its Python-shell bundle, or Glue Spark (Glue 5.1, Python 3.11) from its Spark
bundle. Switching a stage's engine updates the job, its role policy and its
code objects under the same logical names; nothing else changes name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pulumi
import pulumi_aws as aws

from todo_platform import iam, permissions
from todo_platform.artifacts import Deployable, GlueArtifact
from todo_platform.blocks import child
from todo_platform.config import EtlSettings, SparkWorkers

GLUE_VERSION = "3.0"
GLUE_PYTHON_VERSION = "3.9"
#: Glue 5.1: Spark 3.5.6 (the pyspark the Spark package is tested with, its
#: test pin), Python 3.11, Java 17. A test keeps the two equal.
GLUE_SPARK_VERSION = "5.1"
#: The Spark each Glue 5 version runs (what the test pin must be for it).
SPARK_OF_GLUE_VERSION = {"5.0": "3.5.4", "5.1": "3.5.6"}
#: Glue Spark jobs take "3" and run their Glue version's Python (3.11).
GLUE_SPARK_PYTHON = "3"
#: Where the Glue jobs' code lives in the artifacts bucket.
GLUE_ARTIFACTS_PREFIX = "glue/"
S3_READ = ("s3:GetObject",)
S3_WRITE = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")
S3_LIST = ("s3:GetBucketLocation", "s3:ListBucket")
LAKE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
#: What awswrangler needs to read, create and overwrite catalogued Parquet tables.
GLUE_CATALOG_ACTIONS = (
    "glue:BatchCreatePartition",
    "glue:BatchDeletePartition",
    "glue:BatchGetPartition",
    "glue:BatchUpdatePartition",
    "glue:CreatePartition",
    "glue:CreateTable",
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


def wheel_distribution(wheel: Path) -> str:
    """``todo_core-0.1.0-py3-none-any.whl`` -> ``todo_core`` (stable across versions)."""
    return wheel.name.split("-", 1)[0]


def wheel_key(prefix: str, wheel: Path) -> str:
    """Content-addressed: a new build never overwrites the object a running job reads."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()[:32]
    return f"{prefix}wheels/{digest}/{wheel.name}"


@dataclass(frozen=True)
class LakeAccess:
    """What a job reads and writes in the lake, and the keys and catalog it uses."""

    reads: Sequence[aws.s3.Bucket]
    writes: Sequence[aws.s3.Bucket]
    lake_key_arn: pulumi.Input[str]
    #: The Glue databases whose tables the job registers or reads.
    databases: Tuple[str, ...]
    secret_arn: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]


@dataclass(frozen=True)
class SparkRuntime:
    """What a job on Glue Spark runs with, besides its code."""

    workers: SparkWorkers
    #: The stage's Glue security configuration (S3 and bookmarks with the lake key).
    security_configuration: pulumi.Input[str]
    #: ``--custom-logGroup-prefix``: Glue 5 writes ``<prefix>/output`` and
    #: ``<prefix>/error``, declared beforehand with retention and the logs key.
    log_group_prefix: str
    #: The declared log groups (the job is created after them).
    log_groups: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class GlueJobSpec:
    deployable: Deployable
    job_name: str
    #: The Python-shell bundle, or the Spark bundle when ``spark`` is set.
    built: GlueArtifact
    access: LakeAccess
    arguments: Dict[str, pulumi.Input[str]]
    #: The job's engine (gold's ``--ENGINE``), for the actions it needs.
    engine: Optional[str] = None
    extra_statements: List[iam.Statement] = field(default_factory=list)
    #: Set: the job runs on Glue Spark.
    spark: Optional[SparkRuntime] = None


def upload_code(
    parent: pulumi.Resource, spec: GlueJobSpec, bucket: aws.s3.Bucket
) -> Tuple[str, aws.s3.BucketObjectv2, List[aws.s3.BucketObjectv2]]:
    """The job script and wheels in the artifacts bucket.

    The wheels' logical names do not carry their version and their keys are
    content-addressed, and they are retained on delete: a platform train that
    ``--exclude``-s them never deletes an object a job still installs
    (``--exclude`` does not exclude deletions, pulumi/pulumi#19084).
    """
    deployable, built = spec.deployable, spec.built
    prefix = f"{GLUE_ARTIFACTS_PREFIX}{deployable.package}/"
    script = aws.s3.BucketObjectv2(
        deployable.script_logical_name,
        bucket=bucket.id,
        key=prefix + built.key(built.script),
        source=pulumi.FileAsset(str(built.script)),
        content_type="text/x-python",
        opts=child(parent),
    )
    wheels = [
        aws.s3.BucketObjectv2(
            deployable.wheel_logical_name(wheel_distribution(wheel)),
            bucket=bucket.id,
            key=wheel_key(prefix, wheel),
            source=pulumi.FileAsset(str(wheel)),
            content_type="application/zip",
            opts=child(parent, retain_on_delete=True),
        )
        for wheel in built.wheels
    ]
    return prefix, script, wheels


def job_statements(
    spec: GlueJobSpec, code_arn: pulumi.Input[str], region: str, account: str
) -> List[iam.Statement]:
    access = spec.access
    glue_arn = f"arn:aws:glue:{region}:{account}"
    # Glue Python-shell jobs log to the account's /aws-glue/python-jobs/ groups,
    # Spark jobs to their declared /aws-glue/jobs/<job>/ groups.
    log_arn = f"arn:aws:logs:{region}:{account}:log-group:/aws-glue/*"
    declared = permissions.declared_for(spec.deployable, spark=spec.spark is not None)
    return [
        iam.allow(S3_READ, [code_arn], sid="ReadOwnCode"),
        iam.allow(S3_LIST, [b.arn for b in [*access.reads, *access.writes]], sid="ListLakeBuckets"),
        iam.allow(
            S3_READ, [pulumi.Output.concat(b.arn, "/*") for b in access.reads], sid="ReadInput"
        ),
        iam.allow(
            S3_WRITE, [pulumi.Output.concat(b.arn, "/*") for b in access.writes], sid="WriteOutput"
        ),
        iam.kms_user(access.lake_key_arn, LAKE_KEY_ACTIONS, sid="UseLakeKey"),
        iam.allow(
            GLUE_CATALOG_ACTIONS,
            [
                f"{glue_arn}:catalog",
                *(f"{glue_arn}:database/{database}" for database in access.databases),
                *(f"{glue_arn}:table/{database}/*" for database in access.databases),
            ],
            sid="LakeCatalog",
        ),
        iam.allow(["logs:CreateLogGroup"], [log_arn], sid="GlueLogGroups"),
        iam.allow(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_arn}:*"], sid="GlueLogs"),
        iam.metrics_writer(*declared.metrics_namespaces),
        *iam.secret_reader(access.secret_arn, access.secrets_key_arn),
        *spec.extra_statements,
    ]


@dataclass(frozen=True)
class _Code:
    """A job's uploaded code: its script, ``--additional-python-modules``, what it waits for."""

    script: aws.s3.BucketObjectv2
    modules: pulumi.Output[str]
    depends_on: List[pulumi.Resource]


def _python_modules(
    spec: GlueJobSpec, wheels: Sequence[aws.s3.BucketObjectv2]
) -> pulumi.Output[str]:
    """The job's own wheels from S3, then the bundle's exact pins.

    Glue pip-installs the wheels, then the third-party pins of etl/uv.lock
    from PyPI (on Spark: on the driver and on every executor).
    """
    return pulumi.Output.all(*[s3_url(w.bucket, w.key) for w in wheels]).apply(
        lambda urls: ",".join([*sorted(urls), *spec.built.pins])
    )


def _python_shell_job(
    parent: pulumi.Resource, spec: GlueJobSpec, role: aws.iam.Role, code: _Code, etl: EtlSettings
) -> aws.glue.Job:
    deployable = spec.deployable
    return aws.glue.Job(
        deployable.job_logical_name,
        name=spec.job_name,
        description=f"{deployable.package}: python -m {deployable.entry}",
        role_arn=role.arn,
        glue_version=GLUE_VERSION,
        command=aws.glue.JobCommandArgs(
            name="pythonshell",
            python_version=GLUE_PYTHON_VERSION,
            script_location=s3_url(code.script.bucket, code.script.key),
        ),
        max_capacity=etl.glue_max_capacity,
        timeout=etl.glue_timeout_minutes,
        max_retries=etl.glue_max_retries,
        execution_property=aws.glue.JobExecutionPropertyArgs(max_concurrent_runs=1),
        default_arguments={
            "--job-language": "python",
            **spec.arguments,
            "--additional-python-modules": code.modules,
        },
        opts=child(parent, depends_on=code.depends_on),
    )


def spark_arguments(spark: SparkRuntime) -> Dict[str, str]:
    """The Glue arguments every Spark job of the lake takes, besides its own."""
    return {
        # The jobs keep their own manifest of what they processed; Glue's
        # bookmarks would be a second record that could disagree with it.
        "--job-bookmark-option": "job-bookmark-disable",
        # numberOfWorkers is the ceiling: a small run holds, and pays for, fewer.
        "--enable-auto-scaling": "true",
        "--custom-logGroup-prefix": spark.log_group_prefix,
    }


def _spark_job(
    parent: pulumi.Resource,
    spec: GlueJobSpec,
    role: aws.iam.Role,
    code: _Code,
    etl: EtlSettings,
    spark: SparkRuntime,
) -> aws.glue.Job:
    deployable = spec.deployable
    return aws.glue.Job(
        deployable.job_logical_name,
        name=spec.job_name,
        description=f"{deployable.package} on Glue Spark: {deployable.spark_entry}",
        role_arn=role.arn,
        glue_version=GLUE_SPARK_VERSION,
        command=aws.glue.JobCommandArgs(
            name="glueetl",
            python_version=GLUE_SPARK_PYTHON,
            script_location=s3_url(code.script.bucket, code.script.key),
        ),
        worker_type=spark.workers.worker_type,
        number_of_workers=spark.workers.number_of_workers,
        security_configuration=spark.security_configuration,
        timeout=etl.glue_timeout_minutes,
        max_retries=etl.glue_max_retries,
        execution_property=aws.glue.JobExecutionPropertyArgs(max_concurrent_runs=1),
        default_arguments={
            "--job-language": "python",
            **spec.arguments,
            "--additional-python-modules": code.modules,
            **spark_arguments(spark),
        },
        opts=child(parent, depends_on=[*code.depends_on, *spark.log_groups]),
    )


def glue_job(
    parent: pulumi.Resource,
    spec: GlueJobSpec,
    code_bucket: aws.s3.Bucket,
    etl: EtlSettings,
    region: str,
    account: str,
) -> aws.glue.Job:
    """The job, its code, and a role granting exactly what its package declares it calls."""
    deployable = spec.deployable
    prefix, script, wheels = upload_code(parent, spec, code_bucket)
    code_arn = pulumi.Output.concat(code_bucket.arn, "/", prefix, "*")
    statements = job_statements(spec, code_arn, region, account)
    permissions.require_granted(deployable, statements, spec.engine, spark=spec.spark is not None)
    role = aws.iam.Role(
        f"{deployable.key}-job-role",
        assume_role_policy=iam.glue_trust_policy(),
        description=f"Role of the {spec.job_name} Glue job",
        opts=child(parent),
    )
    policy = aws.iam.RolePolicy(
        f"{deployable.key}-job-policy",
        role=role.id,
        policy=iam.document(statements),
        opts=child(parent),
    )
    code = _Code(script, _python_modules(spec, wheels), [policy, *wheels])
    if spec.spark is None:
        return _python_shell_job(parent, spec, role, code, etl)
    return _spark_job(parent, spec, role, code, etl, spec.spark)
