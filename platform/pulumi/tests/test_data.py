"""TodoData: the table exactly as todo_core specifies it, and the data keys."""

from __future__ import annotations

import json

from harness import ACCOUNT_ID, StackRun

from todo_core.keys import TABLE_SPEC
from todo_core.naming import ResourceNames
from todo_platform.policies import KMS_KEY, TABLE


def names(run: StackRun) -> ResourceNames:
    return ResourceNames(run.stage, ACCOUNT_ID, "us-east-1")


def test_table_follows_the_table_spec(run: StackRun) -> None:
    table = run.one(TABLE).inputs
    request = TABLE_SPEC.create_table_request(names(run).table)
    assert table["name"] == "todo-app-data-" + run.stage == request["TableName"]
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["hashKey"] == TABLE_SPEC.hash_key
    assert table["rangeKey"] == TABLE_SPEC.range_key
    assert [(a["name"], a["type"]) for a in table["attributes"]] == [
        (a["AttributeName"], a["AttributeType"]) for a in request["AttributeDefinitions"]
    ]
    assert [
        (
            g["name"],
            [(k["attributeName"], k["keyType"]) for k in g["keySchemas"]],
            g["projectionType"],
        )
        for g in table["globalSecondaryIndexes"]
    ] == [(i.name, [(i.pk, "HASH"), (i.sk, "RANGE")], "ALL") for i in TABLE_SPEC.indexes]
    assert table["streamEnabled"] is True
    assert table["streamViewType"] == TABLE_SPEC.stream_view_type == "NEW_AND_OLD_IMAGES"
    assert table["ttl"] == {"attributeName": TABLE_SPEC.ttl_attribute, "enabled": True}
    assert table["pointInTimeRecovery"] == {"enabled": True}


def test_table_is_encrypted_with_its_own_rotating_key(run: StackRun) -> None:
    table = run.one(TABLE).inputs
    key = run.named("table-key").inputs
    assert table["serverSideEncryption"] == {
        "enabled": True,
        "kmsKeyArn": f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/table-key-0000-1111",
    }
    assert key["enableKeyRotation"] is True
    assert run.named("table-key-alias").inputs["name"] == f"alias/{names(run).table}"


def test_deletion_protection_only_in_prod(run: StackRun) -> None:
    assert run.one(TABLE).inputs["deletionProtectionEnabled"] is (run.stage == "prod")


def test_logs_key_lets_cloudwatch_logs_encrypt_only_this_accounts_groups(run: StackRun) -> None:
    policy = json.loads(run.named("logs-key").inputs["policy"])
    logs = next(
        s
        for s in policy["Statement"]
        if s.get("Principal") == {"Service": "logs.us-east-1.amazonaws.com"}
    )
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:*"
        }
    }
    root = next(s for s in policy["Statement"] if s["Sid"] == "AccountAdministersThroughIam")
    assert root["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}


def test_every_key_rotates_and_waits_before_deletion(run: StackRun) -> None:
    window = {"dev": 7, "staging": 14, "prod": 30}[run.stage]
    keys = run.of_type(KMS_KEY)
    in_stage_region = [k for k in keys if "region" not in k.inputs]
    assert len(in_stage_region) == 5  # table, logs, secrets, lake, alerts
    # ...and the same again in the second region, where the stage has one
    # (tests/test_secondary_region.py): keys never leave their region.
    standby = [k.name for k in keys if "region" in k.inputs]
    in_prod = ("alerts", "lake", "logs", "secrets", "table")
    expected = [f"{key}-standby-key" for key in in_prod] if run.stage == "prod" else []
    assert sorted(standby) == expected
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["deletionWindowInDays"] == window
