"""A Glue Python-shell job from its built artifact: code objects, role, job."""

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
from todo_platform.config import EtlSettings

GLUE_VERSION = "3.0"
GLUE_PYTHON_VERSION = "3.9"
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
class GlueJobSpec:
    deployable: Deployable
    job_name: str
    built: GlueArtifact
    access: LakeAccess
    arguments: Dict[str, pulumi.Input[str]]
    #: The job's engine (gold's ``--ENGINE``), for the actions it needs.
    engine: Optional[str] = None
    extra_statements: List[iam.Statement] = field(default_factory=list)


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
    # Glue Python-shell jobs log to the account's /aws-glue/python-jobs/ groups.
    log_arn = f"arn:aws:logs:{region}:{account}:log-group:/aws-glue/*"
    declared = permissions.declared(spec.deployable)
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


def glue_job(
    parent: pulumi.Resource,
    spec: GlueJobSpec,
    code_bucket: aws.s3.Bucket,
    etl: EtlSettings,
    region: str,
    account: str,
) -> aws.glue.Job:
    """The job, its code, and a role granting exactly what its package declares it calls."""
    deployable, built = spec.deployable, spec.built
    prefix, script, wheels = upload_code(parent, spec, code_bucket)
    code_arn = pulumi.Output.concat(code_bucket.arn, "/", prefix, "*")
    statements = job_statements(spec, code_arn, region, account)
    permissions.require_granted(deployable, statements, spec.engine)
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
    # Glue pip-installs the job's own wheels from S3, then the exact
    # third-party pins of etl/uv.lock from PyPI.
    modules = pulumi.Output.all(*[s3_url(w.bucket, w.key) for w in wheels]).apply(
        lambda urls: ",".join([*sorted(urls), *built.pins])
    )
    return aws.glue.Job(
        deployable.job_logical_name,
        name=spec.job_name,
        description=f"{deployable.package}: python -m {deployable.entry}",
        role_arn=role.arn,
        glue_version=GLUE_VERSION,
        command=aws.glue.JobCommandArgs(
            name="pythonshell",
            python_version=GLUE_PYTHON_VERSION,
            script_location=s3_url(script.bucket, script.key),
        ),
        max_capacity=etl.glue_max_capacity,
        timeout=etl.glue_timeout_minutes,
        max_retries=etl.glue_max_retries,
        execution_property=aws.glue.JobExecutionPropertyArgs(max_concurrent_runs=1),
        default_arguments={
            "--job-language": "python",
            **spec.arguments,
            "--additional-python-modules": modules,
        },
        opts=child(parent, depends_on=[policy, *wheels]),
    )
