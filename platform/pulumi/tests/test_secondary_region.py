"""Prod's second region under mocks: replicas of the table, bronze and the secrets (not in dev)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict

import pytest
from harness import (
    ACCOUNT_ID,
    StackRun,
    cli_config,
    deployable_config,
    run_program,
    stack_file_config,
)
from pydantic import ValidationError

from todo_core.naming import ResourceNames
from todo_platform import policies
from todo_platform.config import SecondaryRegionSettings, Settings
from todo_platform.dashboard import BILLING_REGION
from todo_platform.policies import BUCKET_REPLICATION, METRIC_ALARM, SECRET, TABLE

STANDBY = "us-west-2"


def second(run: StackRun) -> Dict[str, Any]:
    return dict(stack_file_config(run.stage)["todo-platform:secondaryRegion"])


def key_arn(name: str, region: str = STANDBY) -> str:
    return f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{name}-0000-1111"


def test_only_prod_has_a_second_region(dev: StackRun, staging: StackRun, prod: StackRun) -> None:
    assert second(prod)["enabled"] is True
    assert second(prod)["region"] == STANDBY
    for run in (dev, staging):
        assert second(run)["enabled"] is False
        assert "replicas" not in run.one(TABLE).inputs
        assert [r.name for r in run.records if "standby" in r.name] == []
        assert run.of_type(BUCKET_REPLICATION) == []
        assert all("replicas" not in s.inputs for s in run.of_type(SECRET))


def test_prod_table_is_a_global_table_with_a_protected_replica(prod: StackRun) -> None:
    (replica,) = prod.one(TABLE).inputs["replicas"]
    assert replica == {
        "regionName": STANDBY,
        "kmsKeyArn": key_arn("table-standby-key"),
        "pointInTimeRecovery": True,
        "deletionProtectionEnabled": True,
        "propagateTags": True,
    }
    key = prod.named("table-standby-key")
    assert key.inputs["region"] == STANDBY
    assert key.protect is True


def test_bronze_is_copied_into_a_bucket_protected_like_it(prod: StackRun) -> None:
    standby_names = ResourceNames("prod", ACCOUNT_ID, STANDBY)
    copy_bucket = prod.named("bronze-standby-bucket")
    assert copy_bucket.inputs["bucket"] == standby_names.bronze_bucket
    assert copy_bucket.inputs["region"] == STANDBY
    assert copy_bucket.protect is True
    for suffix in ("public-access-block", "encryption", "versioning", "tls-only", "lifecycle"):
        assert prod.named(f"bronze-standby-{suffix}").inputs["region"] == STANDBY
    (rule,) = prod.named("bronze-standby-encryption").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == key_arn(
        "lake-standby-key"
    )
    # Same lifecycle as bronze itself.
    assert (
        prod.named("bronze-standby-lifecycle").inputs["rules"]
        == prod.named("bronze-lifecycle").inputs["rules"]
    )


def test_bronze_replication_copies_every_object_but_no_deletion(prod: StackRun) -> None:
    (config,) = prod.of_type(BUCKET_REPLICATION)
    names = ResourceNames("prod", ACCOUNT_ID, "us-east-1")
    assert config.inputs["bucket"] == names.bronze_bucket
    (rule,) = config.inputs["rules"]
    assert rule["id"] == names.bronze_replication_rule
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {}
    assert rule["deleteMarkerReplication"] == {"status": "Disabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    destination = rule["destination"]
    standby_bucket = ResourceNames("prod", ACCOUNT_ID, STANDBY).bronze_bucket
    assert destination["bucket"] == f"arn:aws:s3:::{standby_bucket}"
    assert destination["encryptionConfiguration"] == {
        "replicaKmsKeyId": key_arn("lake-standby-key")
    }
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert destination["metrics"] == {"status": "Enabled", "eventThreshold": {"minutes": 15}}


def test_the_replication_role_may_do_exactly_what_s3_needs(prod: StackRun) -> None:
    trust = json.loads(prod.named("bronze-replication-role").inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    grants = {
        s["Sid"]: s
        for s in json.loads(prod.named("bronze-replication-policy").inputs["policy"])["Statement"]
    }
    source = f"arn:aws:s3:::{ResourceNames('prod', ACCOUNT_ID, 'us-east-1').bronze_bucket}"
    copy_arn = f"arn:aws:s3:::{ResourceNames('prod', ACCOUNT_ID, STANDBY).bronze_bucket}"
    assert grants["ReadSourceConfiguration"]["Resource"] == [source]
    assert grants["ReadSourceVersions"]["Resource"] == [f"{source}/*"]
    assert grants["WriteReplicas"]["Resource"] == [f"{copy_arn}/*"]
    assert grants["WriteReplicas"]["Action"] == [
        "s3:ReplicateDelete",
        "s3:ReplicateObject",
        "s3:ReplicateTags",
    ]
    assert grants["DecryptSourceObjects"]["Resource"] == [key_arn("lake-key", "us-east-1")]
    assert grants["DecryptSourceObjects"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    }
    assert grants["EncryptReplicas"]["Resource"] == [key_arn("lake-standby-key")]
    assert grants["EncryptReplicas"]["Condition"] == {
        "StringEquals": {"kms:ViaService": f"s3.{STANDBY}.amazonaws.com"}
    }


def test_both_secrets_are_replicated_with_the_standby_regions_key(prod: StackRun) -> None:
    for secret in prod.of_type(SECRET):
        assert secret.inputs["replicas"] == [
            {"region": STANDBY, "kmsKeyId": key_arn("secrets-standby-key")}
        ], secret.name


# --- configuration --------------------------------------------------------------------------


def prod_sections(**second_region: Any) -> Dict[str, Any]:
    sections = {
        k.split(":", 1)[1]: copy.deepcopy(v)
        for k, v in stack_file_config("prod").items()
        if k.startswith("todo-platform:") and isinstance(v, dict)
    }
    sections["alerts"] = {"email": "oncall@ops.todo-app.io"}
    sections["secondaryRegion"] = {**sections["secondaryRegion"], **second_region}
    return sections


def test_the_second_region_must_be_named_and_differ_from_the_stages() -> None:
    base = {"stage": "prod", "artifactsDir": "/tmp"}
    assert (
        Settings.model_validate({**prod_sections(), **base, "region": "us-east-1"}).standby_region
        == STANDBY
    )
    with pytest.raises(ValidationError, match="must differ"):
        Settings.model_validate(
            {**prod_sections(region="us-east-1"), **base, "region": "us-east-1"}
        )
    with pytest.raises(ValidationError, match=r"needs secondaryRegion\.region"):
        SecondaryRegionSettings.model_validate({"enabled": True})
    with pytest.raises(ValidationError):
        SecondaryRegionSettings.model_validate({"enabled": True, "region": "US West"})
    assert SecondaryRegionSettings.model_validate({}).enabled is False


def test_the_standby_api_needs_the_table_replica_and_failover_the_standby() -> None:
    with pytest.raises(ValidationError, match="replicateTable"):
        SecondaryRegionSettings.model_validate(
            {"enabled": True, "region": STANDBY, "replicateTable": False}
        )
    failover = {"hostedZoneId": "Z0123456789ABC", "domainName": "api.todo.example.net"}
    with pytest.raises(ValidationError, match="failover needs"):
        SecondaryRegionSettings.model_validate(
            {"enabled": True, "region": STANDBY, "standbyApi": False, "failover": failover}
        )
    ok = SecondaryRegionSettings.model_validate(
        {"enabled": True, "region": STANDBY, "failover": failover}
    )
    assert ok.failover is not None
    assert ok.failover.health_check_interval_seconds == 30


# --- the same program in other regions -------------------------------------------------------


@pytest.mark.parametrize(
    ("primary", "standby"),
    [("eu-central-1", "eu-west-1"), ("us-west-2", "us-east-1")],
    ids=["europe", "standby-in-the-billing-region"],
)
def test_the_program_deploys_to_any_pair_of_regions(
    primary: str, standby: str, artifacts_dir: Path
) -> None:
    """``aws:region`` and ``secondaryRegion.region`` are settings, nothing else changes."""
    config = copy.deepcopy(deployable_config("prod"))
    config["aws:region"] = primary
    config["todo-platform:secondaryRegion"] = {
        **config["todo-platform:secondaryRegion"],
        "region": standby,
    }
    run = run_program("prod", cli_config(config), artifacts_dir)
    assert policies.run_all(run.records) == []
    regions = {r.inputs.get("region") for r in run.records if r.type.startswith("aws:")}
    # Own region (implicit), the standby, and us-east-1 for the billing alarms.
    assert regions == {None, standby, BILLING_REGION}
    assert run.one(TABLE).inputs["replicas"][0]["regionName"] == standby
    assert run.outputs["ApiEndpoint"].endswith(f".execute-api.{primary}.amazonaws.com/")
    assert run.secondary_outputs["StandbyApiEndpoint"].endswith(
        f".execute-api.{standby}.amazonaws.com/"
    )
    standby_alarm_topics = {
        action
        for alarm in run.of_type(METRIC_ALARM)
        if alarm.inputs.get("region") == standby
        for action in alarm.inputs["alarmActions"]
    }
    # Alarms notify a topic of their own region: in the billing region, the
    # billing alarms' topic serves the standby too.
    topic = "todo-api-alerts-prod" + ("-billing" if standby == BILLING_REGION else "")
    assert standby_alarm_topics == {f"arn:aws:sns:{standby}:{ACCOUNT_ID}:{topic}"}
