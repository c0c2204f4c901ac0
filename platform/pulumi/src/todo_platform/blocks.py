"""Building blocks the components share: keys, log groups, buckets, functions.

Each block creates the resource together with what makes it safe (a key with
rotation, a log group with retention and encryption, a bucket with every
protection, a function with its own log group and least-privilege role), so a
component cannot forget one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import pulumi
import pulumi_aws as aws

from todo_core.naming import ResourceNames
from todo_platform import iam, permissions
from todo_platform.artifacts import Artifacts, Deployable
from todo_platform.config import FunctionSettings, LifecycleSettings, Settings

LAMBDA_RUNTIME = "python3.12"


def child(parent: pulumi.Resource, **kwargs: object) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, **kwargs)  # type: ignore[arg-type]


# --- KMS ------------------------------------------------------------------------


def kms_key(
    parent: pulumi.Resource,
    key: str,
    alias: str,
    description: str,
    account_id: str,
    settings: Settings,
    service_statements: Sequence[iam.Statement] = (),
    region: Optional[str] = None,
) -> aws.kms.Key:
    """A customer-managed key with yearly rotation and an alias.

    Where the stage protects its data (prod), the key is ``protect``-ed too:
    deleting it would make everything it encrypts unreadable.
    """
    kms = aws.kms.Key(
        f"{key}-key",
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=settings.data.kms_deletion_window_days,
        policy=iam.key_policy(account_id, service_statements),
        region=region,
        opts=child(parent, protect=settings.data.deletion_protection),
    )
    aws.kms.Alias(
        f"{key}-key-alias",
        name=f"alias/{alias}",
        target_key_id=kms.key_id,
        region=region,
        opts=child(parent),
    )
    return kms


def logs_key_statement(region: str, account_id: str) -> iam.Statement:
    """Lets CloudWatch Logs encrypt this account's log groups in ``region`` with the key."""
    return iam.service_key_use(
        "CloudWatchLogsEncryptsLogGroups",
        f"logs.{region}.amazonaws.com",
        ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
        condition={
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": (
                    f"arn:aws:logs:{region}:{account_id}:log-group:*"
                )
            }
        },
    )


# --- logs -------------------------------------------------------------------------


def log_group(
    parent: pulumi.Resource,
    key: str,
    name: str,
    settings: Settings,
    logs_key_arn: pulumi.Input[str],
    region: Optional[str] = None,
) -> aws.cloudwatch.LogGroup:
    """A log group with the stage's retention, encrypted with the logs key (of its region)."""
    return aws.cloudwatch.LogGroup(
        key,
        name=name,
        retention_in_days=settings.logs.retention_days,
        kms_key_id=logs_key_arn,
        region=region,
        opts=child(parent),
    )


# --- S3 ---------------------------------------------------------------------------


def tls_only_policy(bucket_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """Deny every request that does not use TLS, whoever makes it."""
    return iam.document(
        [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )


def _lifecycle_rules(
    lifecycle: Optional[LifecycleSettings],
    noncurrent_days: int,
    extra: Sequence[aws.s3.BucketLifecycleConfigurationRuleArgs],
) -> List[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    rules: List[aws.s3.BucketLifecycleConfigurationRuleArgs] = []
    if lifecycle is not None:
        transitions = []
        for days, storage_class in (
            (lifecycle.infrequent_access_days, "STANDARD_IA"),
            (lifecycle.glacier_days, lifecycle.glacier_storage_class),
            (lifecycle.deep_archive_days, "DEEP_ARCHIVE"),
        ):
            if days is not None:
                transitions.append(
                    aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                        days=days, storage_class=storage_class
                    )
                )
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="storage-class-schedule",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                transitions=transitions,
                expiration=(
                    aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=lifecycle.expiration_days
                    )
                    if lifecycle.expiration_days is not None
                    else None
                ),
            )
        )
    rules.append(
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="housekeeping",
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
            noncurrent_version_expiration=(
                aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=noncurrent_days
                )
            ),
            abort_incomplete_multipart_upload=(
                aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=7
                )
            ),
        )
    )
    rules.extend(extra)
    return rules


@dataclass(frozen=True)
class Placement:
    """Where a bucket or secret copy lives and what encrypts it there.

    ``region`` ``None`` is the stage's region (the provider's).
    """

    kms_key_arn: pulumi.Input[str]
    region: Optional[str] = None


@dataclass(frozen=True)
class SecureBucket:
    bucket: aws.s3.Bucket
    #: Replication needs versioning on both ends before it is configured.
    versioning: aws.s3.BucketVersioning


def secure_bucket(
    parent: pulumi.Resource,
    key: str,
    bucket_name: str,
    place: Placement,
    settings: Settings,
    lifecycle: Optional[LifecycleSettings],
    noncurrent_days: int,
    extra_rules: Sequence[aws.s3.BucketLifecycleConfigurationRuleArgs] = (),
) -> SecureBucket:
    """A private, versioned, SSE-KMS, TLS-only bucket with a lifecycle.

    ``protect``-ed where the stage protects its data (prod): the lake is the
    only copy of the change history.
    """
    region = place.region
    bucket = aws.s3.Bucket(
        f"{key}-bucket",
        bucket=bucket_name,
        force_destroy=settings.lake.force_destroy,
        region=region,
        opts=child(parent, protect=settings.data.deletion_protection),
    )
    aws.s3.BucketOwnershipControls(
        f"{key}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        region=region,
        opts=child(parent),
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{key}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        region=region,
        opts=child(parent),
    )
    _bucket_encryption(parent, key, bucket, place)
    versioning = aws.s3.BucketVersioning(
        f"{key}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
            status="Enabled"
        ),
        region=region,
        opts=child(parent),
    )
    aws.s3.BucketPolicy(
        f"{key}-tls-only",
        bucket=bucket.id,
        policy=tls_only_policy(bucket.arn),
        region=region,
        opts=child(parent, depends_on=[public_access]),
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{key}-lifecycle",
        bucket=bucket.id,
        rules=_lifecycle_rules(lifecycle, noncurrent_days, extra_rules),
        region=region,
        opts=child(parent, depends_on=[versioning]),
    )
    return SecureBucket(bucket, versioning)


def _bucket_encryption(
    parent: pulumi.Resource, key: str, bucket: aws.s3.Bucket, place: Placement
) -> None:
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{key}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=place.kms_key_arn
                ),
                # One data key per bucket instead of per object: far fewer KMS calls.
                bucket_key_enabled=True,
            )
        ],
        region=place.region,
        opts=child(parent),
    )


# --- Secrets Manager -------------------------------------------------------------------


def stored_secret(
    parent: pulumi.Resource,
    key: str,
    secret_name: str,
    description: str,
    kms_key_arn: pulumi.Input[str],
    value: pulumi.Input[str],
    replica: Optional[Placement] = None,
) -> aws.secretsmanager.Secret:
    """A Secrets Manager secret encrypted with the stage's secrets key, holding ``value``.

    Only the roles granted ``secretsmanager:GetSecretValue`` on it (and
    ``kms:Decrypt`` via Secrets Manager) can read it. With ``replica``,
    Secrets Manager keeps a read-only copy in that region, encrypted with
    that region's key (the standby API and a lake rebuilt there read it).
    """
    replicas = (
        [
            aws.secretsmanager.SecretReplicaArgs(
                region=replica.region, kms_key_id=replica.kms_key_arn
            )
        ]
        if replica is not None and replica.region
        else None
    )
    secret = aws.secretsmanager.Secret(
        f"{key}-secret",
        name=secret_name,
        description=description,
        kms_key_id=kms_key_arn,
        replicas=replicas,
        # Deleted secrets can be restored for a week.
        recovery_window_in_days=7,
        opts=child(parent),
    )
    aws.secretsmanager.SecretVersion(
        f"{key}-secret-value",
        secret_id=secret.id,
        secret_string=value,
        opts=child(parent),
    )
    return secret


# --- Lambda ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceFunction:
    """A deployed Lambda with the resources that belong to it."""

    deployable: Deployable
    name: str
    function: aws.lambda_.Function
    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    log_group: aws.cloudwatch.LogGroup


@dataclass(frozen=True)
class FunctionSpec:
    """What a service function is deployed with."""

    deployable: Deployable
    name: str
    function_settings: FunctionSettings
    environment: Dict[str, pulumi.Input[str]]
    statements: Sequence[iam.Statement]
    logs_key_arn: pulumi.Input[str]
    #: Defaults to Lambda's own convention, ``/aws/lambda/<name>``.
    log_group_name: Optional[str] = None
    #: Publish a version on every change (needed for an alias with provisioned concurrency).
    publish: bool = False
    #: Another region than the stage's (the standby), and the logical-name
    #: prefix that keeps its resources apart from the stage region's.
    region: Optional[str] = None
    logical_prefix: str = ""


def service_function(
    parent: pulumi.Resource, spec: FunctionSpec, settings: Settings, artifacts: Artifacts
) -> ServiceFunction:
    """A Lambda from its built zip, with its log group and a role granting only its statements.

    The statements must cover every AWS action the package declares it calls
    (``[tool.todo-platform]`` in its pyproject): the preview fails otherwise.
    """
    deployable, name, region = spec.deployable, spec.name, spec.region
    permissions.require_granted(deployable, spec.statements)
    key = spec.logical_prefix + deployable.key
    group_name = spec.log_group_name or ResourceNames.function_log_group(name)
    group = log_group(parent, f"{key}-logs", group_name, settings, spec.logs_key_arn, region)
    role = aws.iam.Role(
        f"{key}-role",
        assume_role_policy=iam.assume_role_policy("lambda.amazonaws.com"),
        description=f"Execution role of {name}" + (f" in {region}" if region else ""),
        opts=child(parent),
    )
    policy = aws.iam.RolePolicy(
        f"{key}-policy",
        role=role.id,
        policy=iam.document([iam.log_writer(group.arn), iam.xray_writer(), *spec.statements]),
        opts=child(parent),
    )
    function = aws.lambda_.Function(
        spec.logical_prefix + deployable.function_logical_name,
        name=name,
        description=deployable.package,
        role=role.arn,
        runtime=LAMBDA_RUNTIME,
        handler=deployable.entry,
        code=pulumi.FileArchive(str(artifacts.lambda_zip(deployable))),
        architectures=[settings.lambda_architecture],
        memory_size=spec.function_settings.memory_mb,
        timeout=spec.function_settings.timeout_seconds,
        reserved_concurrent_executions=spec.function_settings.reserved_concurrency,
        publish=spec.publish or None,
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=spec.environment),
        tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(
            log_format="JSON", log_group=group.name
        ),
        region=region,
        # The log group must exist first, or Lambda creates one without retention.
        opts=child(parent, depends_on=[group, policy]),
    )
    return ServiceFunction(deployable, name, function, role, policy, group)
