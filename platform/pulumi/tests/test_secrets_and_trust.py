"""Secrets in Secrets Manager, read only by their consumers; service-role trust as documented."""

from __future__ import annotations

import json

from harness import ACCOUNT_ID, StackRun

from todo_core.naming import ResourceNames
from todo_platform.policies import ROLE


def names(run: StackRun) -> ResourceNames:
    return ResourceNames(run.stage, ACCOUNT_ID, "us-east-1")


def secret_arn(name: str) -> str:
    return f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:{name}"


def test_the_pii_key_is_a_secret_only_the_glue_jobs_read(run: StackRun) -> None:
    secret = run.named("pii-hmac-secret").inputs
    assert secret["name"] == names(run).pii_hmac_secret
    assert secret["kmsKeyId"] == f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/secrets-key-0000-1111"
    arn = secret_arn(secret["name"])
    readers = sorted(
        r.name for r in run.of_type("aws:iam/rolePolicy:RolePolicy") if arn in r.inputs["policy"]
    )
    assert readers == ["gold-job-policy", "silver-job-policy"]
    for job in ("silver-job", "gold-job"):
        assert run.named(job).inputs["defaultArguments"]["--PII_HMAC_SECRET_ID"] == arn


def test_no_function_or_job_carries_a_secret_value(run: StackRun) -> None:
    for function in run.of_type("aws:lambda/function:Function"):
        variables = function.inputs["environment"]["variables"]
        assert all(isinstance(v, str) for v in variables.values()), function.name
        assert not any(k in ("CURSOR_SECRET", "PII_HMAC_KEY") for k in variables)
    for job in ("silver-job", "gold-job"):
        assert all(isinstance(v, str) for v in run.named(job).inputs["defaultArguments"].values())


def trust(run: StackRun, role: str) -> dict:
    (statement,) = json.loads(run.named(role).inputs["assumeRolePolicy"])["Statement"]
    return statement


def test_firehose_roles_check_the_documented_external_id(run: StackRun) -> None:
    for role in ("cdc-stream-role", "logs-stream-role"):
        statement = trust(run, role)
        assert statement["Principal"] == {"Service": "firehose.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": ACCOUNT_ID}}


def test_glue_roles_use_glues_documented_trust(run: StackRun) -> None:
    for role in ("silver-job-role", "gold-job-role"):
        statement = trust(run, role)
        assert statement == {
            "Effect": "Allow",
            "Principal": {"Service": "glue.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }


def test_every_role_trusts_exactly_one_service(run: StackRun) -> None:
    for role in run.of_type(ROLE):
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert set(statement["Principal"]) == {"Service"}, role.name
