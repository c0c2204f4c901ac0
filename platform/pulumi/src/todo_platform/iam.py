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


def assume_role_policy(service: str, account_id: Optional[str] = None) -> str:
    """Trust policy for an AWS service; ``account_id`` adds a confused-deputy guard."""
    statement: Statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if account_id:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


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


def metrics_writer(namespace: str = METRICS_NAMESPACE) -> Statement:
    """PutMetricData has no resource scoping; the namespace condition is the fence."""
    return allow(
        ["cloudwatch:PutMetricData"],
        ["*"],
        sid="PutOwnMetrics",
        condition={"StringEquals": {"cloudwatch:namespace": namespace}},
    )


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
