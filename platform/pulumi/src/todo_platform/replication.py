"""S3 replication of a bucket into its copy in the stage's second region.

The copy is a bucket like any other of the stage (``blocks.secure_bucket``:
versioned, SSE-KMS with the lake key *of its region*, Block Public Access,
TLS-only), so every bucket policy covers it; this module adds the role S3
replicates with and the replication configuration on the source bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from todo_platform import iam
from todo_platform.blocks import SecureBucket, child

#: What S3 reads from the source and writes to the copy (the actions AWS
#: documents for a replication role, objects encrypted with SSE-KMS).
SOURCE_BUCKET_ACTIONS = ("s3:GetReplicationConfiguration", "s3:ListBucket")
SOURCE_OBJECT_ACTIONS = (
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionTagging",
)
DESTINATION_OBJECT_ACTIONS = ("s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags")
#: S3 Replication Time Control's promise (and the metrics' threshold), in minutes.
REPLICATION_TIME_MINUTES = 15


@dataclass(frozen=True)
class ReplicationSpec:
    """One source bucket replicated into its copy."""

    key: str
    rule_id: str
    account_id: str
    source: SecureBucket
    source_region: str
    source_key_arn: pulumi.Input[str]
    destination: SecureBucket
    destination_region: str
    destination_key_arn: pulumi.Input[str]
    replication_time_control: bool


def _via_s3(region: str) -> dict:
    """KMS use only on S3's behalf, in that region."""
    return {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}


def replication_role(parent: pulumi.Resource, spec: ReplicationSpec) -> pulumi.Output[str]:
    """The role S3 assumes to copy ``source``'s objects; its ARN resolves once it may."""
    source_arn = spec.source.bucket.arn
    role = aws.iam.Role(
        f"{spec.key}-replication-role",
        # The form the S3 replication guide documents (no condition: S3 does not
        # document the source keys it sends when assuming a replication role);
        # only this account's principals allowed iam:PassRole can attach it.
        assume_role_policy=iam.assume_role_policy("s3.amazonaws.com"),
        description=f"S3 replicates the {spec.key} bucket into the standby region",
        opts=child(parent),
    )
    destination_arn = spec.destination.bucket.arn
    policy = aws.iam.RolePolicy(
        f"{spec.key}-replication-policy",
        role=role.id,
        policy=iam.document(
            [
                iam.allow(SOURCE_BUCKET_ACTIONS, [source_arn], sid="ReadSourceConfiguration"),
                iam.allow(
                    SOURCE_OBJECT_ACTIONS,
                    [pulumi.Output.concat(source_arn, "/*")],
                    sid="ReadSourceVersions",
                ),
                iam.allow(
                    DESTINATION_OBJECT_ACTIONS,
                    [pulumi.Output.concat(destination_arn, "/*")],
                    sid="WriteReplicas",
                ),
                iam.allow(
                    ["kms:Decrypt"],
                    [spec.source_key_arn],
                    sid="DecryptSourceObjects",
                    condition=_via_s3(spec.source_region),
                ),
                iam.allow(
                    ["kms:Encrypt", "kms:GenerateDataKey"],
                    [spec.destination_key_arn],
                    sid="EncryptReplicas",
                    condition=_via_s3(spec.destination_region),
                ),
            ]
        ),
        opts=child(parent),
    )
    return pulumi.Output.all(role.arn, policy.id).apply(lambda values: str(values[0]))


def _destination(spec: ReplicationSpec) -> aws.s3.BucketReplicationConfigRuleDestinationArgs:
    timed = spec.replication_time_control
    return aws.s3.BucketReplicationConfigRuleDestinationArgs(
        bucket=spec.destination.bucket.arn,
        # Replicas are encrypted with the destination region's key, as its own objects.
        encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
            replica_kms_key_id=spec.destination_key_arn
        ),
        replication_time=(
            aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                status="Enabled",
                time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(
                    minutes=REPLICATION_TIME_MINUTES
                ),
            )
            if timed
            else None
        ),
        # RTC requires the metrics; without RTC they still show the backlog.
        metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
            status="Enabled",
            event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                minutes=REPLICATION_TIME_MINUTES
            ),
        ),
    )


def replicate_bucket(
    parent: pulumi.Resource, spec: ReplicationSpec
) -> aws.s3.BucketReplicationConfig:
    """Every new object version of ``source`` is copied into ``destination``.

    Deletions are not replicated (delete markers stay in the source): the copy
    is what a recovery starts from, so a mistaken or malicious delete in the
    primary must not reach it. Objects written before replication was turned
    on are not copied (S3 Batch Replication does that, once; README).
    """
    return aws.s3.BucketReplicationConfig(
        f"{spec.key}-replication",
        bucket=spec.source.bucket.id,
        role=replication_role(parent, spec),
        rules=[
            aws.s3.BucketReplicationConfigRuleArgs(
                id=spec.rule_id,
                status="Enabled",
                filter=aws.s3.BucketReplicationConfigRuleFilterArgs(),
                delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                    status="Disabled"
                ),
                source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                    sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                        status="Enabled"
                    )
                ),
                destination=_destination(spec),
            )
        ],
        opts=child(parent, depends_on=[spec.source.versioning, spec.destination.versioning]),
    )
