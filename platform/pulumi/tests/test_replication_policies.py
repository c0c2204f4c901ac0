"""The replication rules catch what they are for: each mutation of a good setup fails."""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict, List

import pytest
from test_policies import TAGGED_PROVIDER, good_bucket, in_region, names_of, rec

from todo_platform import policies
from todo_platform.policies import ResourceRecord, run_all

TABLE_SPEC_INPUTS = {
    "serverSideEncryption": {"enabled": True, "kmsKeyArn": "arn:aws:kms:us-east-1:1:key/t"},
    "pointInTimeRecovery": {"enabled": True},
    "streamEnabled": True,
    "streamViewType": "NEW_AND_OLD_IMAGES",
}
GOOD_REPLICA = {
    "regionName": "us-west-2",
    "kmsKeyArn": "arn:aws:kms:us-west-2:1:key/replica",
    "pointInTimeRecovery": True,
}


def table(*replicas: Dict[str, Any]) -> ResourceRecord:
    return rec(policies.TABLE, "table", **TABLE_SPEC_INPUTS, replicas=list(replicas))


def test_a_global_table_with_an_encrypted_recoverable_replica_passes() -> None:
    assert run_all([TAGGED_PROVIDER, table(GOOD_REPLICA)]) == []


@pytest.mark.parametrize(
    ("change", "policy"),
    [
        ({"kmsKeyArn": None}, policies.encryption_at_rest),
        # A key of the table's own region cannot encrypt the replica.
        ({"kmsKeyArn": "arn:aws:kms:us-east-1:1:key/t"}, policies.encryption_at_rest),
        ({"pointInTimeRecovery": False}, policies.pitr_and_streams),
        ({"pointInTimeRecovery": None}, policies.pitr_and_streams),
    ],
)
def test_table_replica_rules_catch(change: Dict[str, Any], policy: Any) -> None:
    bad = table({**GOOD_REPLICA, **change})
    assert names_of(policy([TAGGED_PROVIDER, bad])) == [bad.ref]


def test_a_secret_replica_needs_a_customer_key() -> None:
    def secret(replica: Dict[str, Any]) -> ResourceRecord:
        return rec(policies.SECRET, "s", kmsKeyId="k", replicas=[replica])

    ok = secret({"region": "us-west-2", "kmsKeyId": "arn:aws:kms:us-west-2:1:key/s"})
    assert policies.encryption_at_rest([ok]) == []
    bad = secret({"region": "us-west-2"})
    assert names_of(policies.encryption_at_rest([bad])) == [bad.ref]


def versioning(bucket: str, status: str = "Enabled", region: str = "") -> ResourceRecord:
    inputs: Dict[str, Any] = {"bucket": bucket, "versioningConfiguration": {"status": status}}
    if region:
        inputs["region"] = region
    return rec(policies.BUCKET_VERSIONING, f"{bucket}-versioning", **inputs)


def replication(**rule_changes: Any) -> ResourceRecord:
    rule = {
        "id": "bronze-to-standby-region",
        "status": "Enabled",
        "filter": {},
        "deleteMarkerReplication": {"status": "Disabled"},
        "sourceSelectionCriteria": {"sseKmsEncryptedObjects": {"status": "Enabled"}},
        "destination": {
            "bucket": "arn:aws:s3:::copy",
            "encryptionConfiguration": {"replicaKmsKeyId": "arn:aws:kms:us-west-2:1:key/l"},
        },
    }
    rule.update(rule_changes)
    return rec(
        policies.BUCKET_REPLICATION,
        "bronze-replication",
        bucket="src",
        role="arn:aws:iam::1:role/r",
        rules=[rule],
    )


def good_setup() -> List[ResourceRecord]:
    return [
        TAGGED_PROVIDER.__class__(
            TAGGED_PROVIDER.type,
            TAGGED_PROVIDER.name,
            {**TAGGED_PROVIDER.inputs, "region": "us-east-1"},
            urn=TAGGED_PROVIDER.urn,
        ),
        *good_bucket("src"),
        versioning("src"),
        *in_region(good_bucket("copy"), "us-west-2"),
        versioning("copy", region="us-west-2"),
        replication(),
    ]


def test_a_replicated_bucket_like_its_primary_passes_every_rule() -> None:
    assert run_all(good_setup()) == []


def _without(typ: str, bucket: str) -> Callable[[List[ResourceRecord]], List[ResourceRecord]]:
    return lambda rs: [r for r in rs if not (r.type == typ and r.inputs.get("bucket") == bucket)]


def _replace_config(config: ResourceRecord) -> Callable[[List[ResourceRecord]], List]:
    return lambda rs: [config if r.type == policies.BUCKET_REPLICATION else r for r in rs]


def _destination(**changes: Any) -> Dict[str, Any]:
    destination = copy.deepcopy(replication().inputs["rules"][0]["destination"])
    destination.update(changes)
    return destination


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_without(policies.BUCKET, "copy"), "copy is not a bucket of this program"),
        (_without(policies.BUCKET_VERSIONING, "copy"), "copy is not versioned"),
        (_without(policies.BUCKET_VERSIONING, "src"), "src is not versioned"),
        (_replace_config(replication(status="Disabled")), "is not enabled"),
        (
            _replace_config(
                replication(
                    sourceSelectionCriteria={"sseKmsEncryptedObjects": {"status": "Disabled"}}
                )
            ),
            "skips SSE-KMS objects",
        ),
        (
            _replace_config(replication(destination=_destination(encryptionConfiguration={}))),
            "not encrypted with a key of its region",
        ),
        (
            _replace_config(
                replication(
                    destination=_destination(
                        encryptionConfiguration={
                            "replicaKmsKeyId": "arn:aws:kms:us-east-1:1:key/primary"
                        }
                    )
                )
            ),
            "not encrypted with a key of its region",
        ),
    ],
)
def test_replication_policy_catches(mutate: Any, message: str) -> None:
    violations = policies.replicas_like_the_primary(mutate(good_setup()))
    assert violations, message
    assert any(message in v.message for v in violations), [v.message for v in violations]


def test_replication_policy_catches_a_missing_role() -> None:
    config = replication()
    inputs = {k: v for k, v in config.inputs.items() if k != "role"}
    bad = rec(policies.BUCKET_REPLICATION, config.name, **inputs)
    violations = policies.replicas_like_the_primary(_replace_config(bad)(good_setup()))
    assert [v.message for v in violations] == ["no replication role"]


def test_the_copy_is_under_every_bucket_rule() -> None:
    """A copy without TLS-only policy or Block Public Access fails those rules as any bucket."""
    records = [
        r
        for r in good_setup()
        if not (r.inputs.get("bucket") == "copy" and r.type == policies.BUCKET_POLICY)
    ]
    assert names_of(policies.tls_only_buckets(records)) == [f"{policies.BUCKET}::copy-bucket"]
