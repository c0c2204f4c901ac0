"""IAM and KMS policy documents.

Statements are plain dicts whose values may be Outputs; :func:`document`
resolves them into the JSON string AWS expects. Every identity policy in the
program is written here or next to the resource it grants, always naming the
exact resources: the policy tests reject wildcards.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence

import pulumi

from todo_core.naming import METRICS_NAMESPACE

Statement = Dict[str, Any]


def document(statements: Sequence[Statement]) -> pulumi.Output[str]:
    """A policy document (JSON) from statements that may hold Outputs."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(
    actions: Sequence[str],
    resources: Sequence[Any],
    sid: Optional[str] = None,
    condition: Optional[Dict[str, Any]] = None,
) -> Statement:
    statement: Statement = {
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": list(resources),
    }
    if sid:
        statement["Sid"] = sid
    if condition:
        statement["Condition"] = condition
    return statement


def assume_role_policy(service: str, condition: Optional[Dict[str, Any]] = None) -> str:
    """Trust policy for an AWS service principal, in the form that service documents."""
    statement: Statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def firehose_trust_policy(account_id: str) -> str:
    """Firehose assumes its delivery role with this account's id as the external id.

    The documented trust policy for an S3 destination checks ``sts:ExternalId``
    (not ``aws:SourceAccount``):
    https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3
    """
    return assume_role_policy(
        "firehose.amazonaws.com", {"StringEquals": {"sts:ExternalId": account_id}}
    )


def glue_trust_policy() -> str:
    """Glue job roles trust ``glue.amazonaws.com`` without a condition.

    That is the form Glue documents for job roles
    (https://docs.aws.amazon.com/glue/latest/dg/create-an-iam-role.html); Glue
    does not document passing ``aws:SourceAccount`` when it assumes a job
    role, and a condition on a key the service does not send denies every
    run. Only this account can pass the role to a job (``iam:PassRole``).
    """
    return assume_role_policy("glue.amazonaws.com")


def log_writer(log_group_arn: pulumi.Input[str]) -> Statement:
    """Write to one pre-created log group (the group itself is never created at run time)."""
    return allow(
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        [pulumi.Output.concat(log_group_arn, ":*")],
        sid="WriteOwnLogGroup",
    )


def xray_writer() -> Statement:
    """X-Ray accepts no resource-level scoping: ``*`` is the only valid resource."""
    return allow(["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"], sid="WriteTraces")


def metrics_writer(*namespaces: str) -> Statement:
    """PutMetricData has no resource scoping; the namespace condition is the fence."""
    fence = sorted(namespaces or (METRICS_NAMESPACE,))
    return allow(
        ["cloudwatch:PutMetricData"],
        ["*"],
        sid="PutOwnMetrics",
        condition={
            "StringEquals": {"cloudwatch:namespace": fence[0] if len(fence) == 1 else fence}
        },
    )


def secret_reader(secret_arn: pulumi.Input[str], key_arn: pulumi.Input[str]) -> List[Statement]:
    """Read one secret, decrypting it with its key only through Secrets Manager."""
    return [
        allow(["secretsmanager:GetSecretValue"], [secret_arn], sid="ReadOwnSecret"),
        allow(
            ["kms:Decrypt"],
            [key_arn],
            sid="DecryptOwnSecret",
            condition={"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}},
        ),
    ]


def kms_user(key_arn: pulumi.Input[str], actions: Sequence[str], sid: str) -> Statement:
    return allow(actions, [key_arn], sid=sid)


def key_policy(account_id: str, extra: Sequence[Statement] = ()) -> pulumi.Output[str]:
    """A key policy: the account administers the key through IAM, plus service grants.

    In a key policy ``Resource: "*"`` means "this key"; the account-root
    statement is AWS's default and lets IAM policies (scoped to the key ARN)
    decide who may use it.
    """
    statements: List[Statement] = [
        {
            "Sid": "AccountAdministersThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        *extra,
    ]
    return document(statements)


def service_key_use(
    sid: str, service: str, actions: Sequence[str], condition: Optional[Dict[str, Any]] = None
) -> Statement:
    """A key-policy statement letting an AWS service principal use the key."""
    statement: Statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": sorted(actions),
        "Resource": "*",
    }
    if condition:
        statement["Condition"] = condition
    return statement
