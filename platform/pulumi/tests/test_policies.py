"""Policies over every declared resource of every stage, and proof each can fail."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

import pytest
from harness import PROJECT_DIR, StackRun, deployable_config

from todo_platform import policies
from todo_platform.policies import POLICIES, ResourceRecord, run_all

# --- every stage passes every policy --------------------------------------------------------


@pytest.mark.parametrize("policy_name", sorted(POLICIES))
def test_stage_passes_policy(run: StackRun, policy_name: str) -> None:
    violations = POLICIES[policy_name](run.records)
    assert violations == [], "\n".join(map(str, violations))


def test_policies_see_the_resources_they_govern(run: StackRun) -> None:
    """A policy over an empty selection proves nothing: the record holds what they check."""
    kinds = {r.type for r in run.records}
    for governed in (
        policies.TABLE,
        policies.BUCKET,
        policies.BUCKET_SSE,
        policies.BUCKET_PAB,
        policies.BUCKET_POLICY,
        policies.TOPIC,
        policies.QUEUE,
        policies.LOG_GROUP,
        policies.FIREHOSE,
        policies.WORKGROUP,
        policies.KMS_KEY,
        policies.FUNCTION,
        policies.METRIC_ALARM,
        policies.ROLE,
        policies.ROLE_POLICY,
        policies.AWS_PROVIDER,
        policies.LOG_SUBSCRIPTION,
        policies.BUCKET_VERSIONING,
    ):
        assert governed in kinds
    assert policies.GLUE_JOB in kinds
    if deployable_config(run.stage)["todo-platform:etl"]["engine"] == "spark":
        assert policies.GLUE_SECURITY_CONFIGURATION in kinds
    if run.stage == "prod":  # the second region's replication
        assert policies.BUCKET_REPLICATION in kinds
        assert any(t.inputs.get("replicas") for t in run.of_type(policies.TABLE))
    assert len(policies.identity_policies(run.records)) >= 8
    taggable = [
        r for r in run.records if not r.type.startswith("pulumi:") and policies.is_taggable(r.type)
    ]
    assert len(taggable) > 50


def test_every_aws_resource_uses_the_tagged_provider(run: StackRun) -> None:
    provider = run.one(policies.AWS_PROVIDER)
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert tags == {
        "Project": "todo-api-with-insights",
        "Owner": "platform-team",
        "Environment": run.stage,
        "CostCenter": "engineering-platform",
    }
    for record in run.records:
        if record.type.startswith("aws:"):
            assert record.provider.rsplit("::", 1)[0] == provider.urn, record.ref


# --- each policy catches a violating resource ------------------------------------------------

TAGGED_PROVIDER = ResourceRecord(
    policies.AWS_PROVIDER,
    "aws",
    {"defaultTags": json.dumps({"tags": dict.fromkeys(policies.REQUIRED_TAGS, "x")})},
    urn="urn:pulumi:s::p::pulumi:providers:aws::aws",
)
PROVIDER_REF = TAGGED_PROVIDER.urn + "::id"


def rec(typ: str, logical: str, /, provider: str = PROVIDER_REF, **inputs: Any) -> ResourceRecord:
    return ResourceRecord(typ, logical, inputs, provider)


def good_bucket(name: str = "b") -> List[ResourceRecord]:
    arn = f"arn:aws:s3:::{name}"
    return [
        rec(policies.BUCKET, f"{name}-bucket", bucket=name),
        rec(
            policies.BUCKET_SSE,
            f"{name}-sse",
            bucket=name,
            rules=[
                {
                    "applyServerSideEncryptionByDefault": {
                        "sseAlgorithm": "aws:kms",
                        "kmsMasterKeyId": "k",
                    }
                }
            ],
        ),
        rec(
            policies.BUCKET_PAB,
            f"{name}-pab",
            bucket=name,
            blockPublicAcls=True,
            blockPublicPolicy=True,
            ignorePublicAcls=True,
            restrictPublicBuckets=True,
        ),
        rec(
            policies.BUCKET_POLICY,
            f"{name}-policy",
            bucket=name,
            policy=json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [arn, f"{arn}/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ]
                }
            ),
        ),
    ]


def function(name: str = "fn") -> List[ResourceRecord]:
    alarms = [
        rec(
            policies.METRIC_ALARM,
            f"{name}-{metric}",
            namespace="AWS/Lambda",
            metricName=metric,
            dimensions={"FunctionName": name},
            alarmActions=["arn:aws:sns:r:1:t"],
        )
        for metric in ("Errors", "Duration")
    ]
    return [
        rec(policies.FUNCTION, name, name=name),
        rec(
            policies.LOG_GROUP,
            f"{name}-logs",
            name=f"/aws/lambda/{name}",
            retentionInDays=14,
            kmsKeyId="k",
        ),
        *alarms,
    ]


def role_policy(*statements: Dict[str, Any]) -> ResourceRecord:
    return rec(policies.ROLE_POLICY, "p", policy=json.dumps({"Statement": list(statements)}))


def names_of(violations: List[policies.Violation]) -> List[str]:
    return sorted({v.resource for v in violations})


def test_the_synthetic_baseline_is_clean() -> None:
    baseline = [
        TAGGED_PROVIDER,
        *good_bucket(),
        *function(),
        role_policy(
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}
        ),
    ]
    assert run_all(baseline) == []


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (rec(policies.TABLE, "t", serverSideEncryption={"enabled": True}), "t"),
        (rec(policies.TOPIC, "topic"), "topic"),
        (rec(policies.QUEUE, "q", sqsManagedSseEnabled=False), "q"),
        (rec(policies.LOG_GROUP, "lg", name="/x", retentionInDays=7), "lg"),
        (
            rec(
                policies.FIREHOSE,
                "fh",
                destination="extended_s3",
                serverSideEncryption={"enabled": True, "keyType": "AWS_OWNED_CMK"},
                extendedS3Configuration={"kmsKeyArn": "k"},
            ),
            "fh",
        ),
        (
            rec(
                policies.FIREHOSE,
                "fh2",
                destination="extended_s3",
                serverSideEncryption={"enabled": True, "keyType": "CUSTOMER_MANAGED_CMK"},
                extendedS3Configuration={},
            ),
            "fh2",
        ),
        (rec(policies.WORKGROUP, "wg", configuration={"resultConfiguration": {}}), "wg"),
        (rec(policies.KMS_KEY, "key", enableKeyRotation=False), "key"),
        (rec("aws:kinesis/stream:Stream", "stream"), "stream"),
    ],
)
def test_encryption_policy_catches(bad: ResourceRecord, expected: str) -> None:
    violations = policies.encryption_at_rest([TAGGED_PROVIDER, bad])
    assert names_of(violations) == [bad.ref]


def test_encryption_policy_catches_a_bucket_without_kms() -> None:
    records = [r for r in good_bucket() if r.type != policies.BUCKET_SSE]
    records.append(
        rec(
            policies.BUCKET_SSE,
            "aes",
            bucket="b",
            rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
        )
    )
    assert names_of(policies.encryption_at_rest(records)) == [f"{policies.BUCKET}::b-bucket"]


@pytest.mark.parametrize(
    "switch", ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]
)
def test_public_bucket_policy_catches_any_switch_off(switch: str) -> None:
    records = good_bucket()
    pab = next(r for r in records if r.type == policies.BUCKET_PAB)
    records[records.index(pab)] = rec(
        policies.BUCKET_PAB, pab.name, **{**pab.inputs, switch: False}
    )
    assert names_of(policies.no_public_buckets(records)) == [f"{policies.BUCKET}::b-bucket"]


def test_public_bucket_policy_catches_missing_block_acl_and_public_allow() -> None:
    records = [r for r in good_bucket("c") if r.type != policies.BUCKET_PAB]
    assert policies.no_public_buckets(records)
    records = [
        *good_bucket(),
        rec(policies.BUCKET_ACL, "acl", bucket="b", acl="public-read"),
        rec(
            policies.BUCKET_POLICY,
            "open",
            bucket="b",
            policy=json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "*"},
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::b/*",
                        }
                    ]
                }
            ),
        ),
    ]
    messages = {v.message for v in policies.no_public_buckets(records)}
    assert messages == {"public canned ACL", "Allow to everyone"}


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.pop("Condition"),
        lambda s: s.update(Resource=["arn:aws:s3:::b"]),
        lambda s: s.update(Effect="Allow"),
        lambda s: s.update(Condition={"Bool": {"aws:SecureTransport": "true"}}),
        lambda s: s.update(Action="s3:GetObject"),
    ],
    ids=["no-condition", "bucket-only", "allow", "inverted", "one-action"],
)
def test_tls_policy_catches_weak_statements(mutate: Any) -> None:
    records = good_bucket()
    policy = next(r for r in records if r.type == policies.BUCKET_POLICY)
    doc = json.loads(policy.inputs["policy"])
    mutate(doc["Statement"][0])
    records[records.index(policy)] = rec(
        policies.BUCKET_POLICY, policy.name, bucket="b", policy=json.dumps(doc)
    )
    assert names_of(policies.tls_only_buckets(records)) == [f"{policies.BUCKET}::b-bucket"]


def test_tls_policy_catches_a_bucket_without_policy() -> None:
    records = [r for r in good_bucket() if r.type != policies.BUCKET_POLICY]
    assert policies.tls_only_buckets(records)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"streamEnabled": True, "streamViewType": "NEW_AND_OLD_IMAGES"},
            "point-in-time recovery off",
        ),
        ({"pointInTimeRecovery": {"enabled": True}}, "stream disabled"),
        (
            {
                "pointInTimeRecovery": {"enabled": True},
                "streamEnabled": True,
                "streamViewType": "KEYS_ONLY",
            },
            "stream view type is not NEW_AND_OLD_IMAGES",
        ),
    ],
)
def test_pitr_and_streams_policy_catches(inputs: Dict[str, Any], message: str) -> None:
    violations = policies.pitr_and_streams([rec(policies.TABLE, "t", **inputs)])
    assert [v.message for v in violations] == [message]


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"},
        {"Effect": "Allow", "Action": ["s3:*"], "Resource": "arn:aws:s3:::b"},
        {"Effect": "Allow", "Action": ["s3:Get*"], "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Allow", "Action": ["kms:*Key*"], "Resource": "arn:aws:kms:::key/k"},
        {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*"},
        {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "arn:aws:s3:::b"},
        {
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "sqs:SendMessage"],
            "Resource": ["*"],
        },
    ],
    ids=[
        "star",
        "service-star",
        "prefix-pattern",
        "infix-pattern",
        "data-plane-star-resource",
        "unfenced-metrics",
        "not-action",
        "mixed",
    ],
)
def test_iam_policy_catches(statement: Dict[str, Any]) -> None:
    assert policies.iam_least_privilege([role_policy(statement)])


def test_iam_policy_allows_the_unscoped_actions_when_fenced() -> None:
    assert (
        policies.iam_least_privilege(
            [
                role_policy(
                    {"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"},
                    {
                        "Effect": "Allow",
                        "Action": "cloudwatch:PutMetricData",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"cloudwatch:namespace": "N"}},
                    },
                    {"Effect": "Deny", "Action": "*", "Resource": "*"},
                )
            ]
        )
        == []
    )


def test_iam_policy_catches_managed_policies_and_inline_role_policies() -> None:
    records = [
        rec(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "attach",
            policyArn="arn:aws:iam::aws:policy/AdministratorAccess",
        ),
        rec(
            policies.ROLE,
            "role",
            inlinePolicies=[
                {
                    "policy": json.dumps(
                        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
                    )
                }
            ],
        ),
    ]
    assert names_of(policies.iam_least_privilege(records)) == sorted(r.ref for r in records)


def test_log_retention_policy_catches_forever_and_undeclared_groups() -> None:
    records = function()
    group = next(r for r in records if r.type == policies.LOG_GROUP)
    records[records.index(group)] = rec(
        policies.LOG_GROUP, group.name, name=group.inputs["name"], kmsKeyId="k"
    )
    assert names_of(policies.log_retention(records)) == [group.ref]
    undeclared = [r for r in function() if r.type != policies.LOG_GROUP]
    assert names_of(policies.log_retention(undeclared)) == [f"{policies.FUNCTION}::fn"]


def spark_job(
    name: str = "j",
    config: str = "sc",
    prefix: Optional[str] = "/aws-glue/jobs/j",
    command: str = "glueetl",
    groups: Tuple[str, ...] = ("output", "error"),
    **encryption: Any,
) -> List[ResourceRecord]:
    """A Glue job, its security configuration and its declared log groups (all good by default)."""
    arguments = {"--custom-logGroup-prefix": prefix} if prefix else {}
    blocks = {
        "s3Encryption": {"s3EncryptionMode": "SSE-KMS", "kmsKeyArn": "k"},
        "jobBookmarksEncryption": {"jobBookmarksEncryptionMode": "CSE-KMS", "kmsKeyArn": "k"},
        "cloudwatchEncryption": {"cloudwatchEncryptionMode": "DISABLED"},
        **encryption,
    }
    return [
        rec(
            policies.GLUE_JOB,
            name,
            command={"name": command},
            securityConfiguration=config,
            defaultArguments=arguments,
        ),
        rec(policies.GLUE_SECURITY_CONFIGURATION, "sc", name="sc", encryptionConfiguration=blocks),
        *(
            rec(
                policies.LOG_GROUP,
                f"{name}-{g}",
                name=f"{prefix}/{g}",
                retentionInDays=7,
                kmsKeyId="k",
            )
            for g in groups
        ),
    ]


def test_a_secured_spark_job_and_a_python_shell_job_pass() -> None:
    assert policies.glue_spark_jobs_secured(spark_job()) == []
    # Python-shell jobs log to Glue's fixed groups and take no security configuration.
    shell = rec(policies.GLUE_JOB, "shell", command={"name": "pythonshell"}, defaultArguments={})
    assert policies.glue_spark_jobs_secured([shell]) == []
    assert run_all([TAGGED_PROVIDER, *spark_job()]) == []


@pytest.mark.parametrize(
    ("records", "message"),
    [
        (spark_job(config="other"), "no security configuration of this program"),
        (spark_job(prefix=None), "no --custom-logGroup-prefix"),
        (spark_job(groups=("output",)), "/aws-glue/jobs/j/error is not declared"),
        (
            spark_job(s3Encryption={"s3EncryptionMode": "DISABLED"}),
            "S3 output not encrypted",
        ),
        (
            spark_job(s3Encryption={"s3EncryptionMode": "SSE-KMS"}),
            "S3 output not encrypted",
        ),
        (
            spark_job(jobBookmarksEncryption={"jobBookmarksEncryptionMode": "DISABLED"}),
            "job bookmarks not encrypted",
        ),
        (
            spark_job(cloudwatchEncryption={"cloudwatchEncryptionMode": "SSE-KMS"}),
            "CloudWatch encryption without a KMS key",
        ),
    ],
    ids=[
        "no-config",
        "default-log-groups",
        "undeclared-group",
        "s3-plain",
        "s3-no-key",
        "bookmarks-plain",
        "logs-no-key",
    ],
)
def test_glue_spark_policy_catches(records: List[ResourceRecord], message: str) -> None:
    violations = policies.glue_spark_jobs_secured(records)
    assert [v.resource for v in violations] == [f"{policies.GLUE_JOB}::j"]
    assert message in violations[0].message


def test_glue_spark_policy_reads_blocks_shown_as_one_item_lists() -> None:
    records = spark_job()
    config = records[1]
    listed = {k: [v] for k, v in config.inputs["encryptionConfiguration"].items()}
    records[1] = rec(config.type, config.name, name="sc", encryptionConfiguration=[listed])
    assert policies.glue_spark_jobs_secured(records) == []


@pytest.mark.parametrize("missing", ["Errors", "Duration"])
def test_lambda_alarm_policy_catches_a_missing_alarm(missing: str) -> None:
    records = [r for r in function() if r.inputs.get("metricName") != missing]
    assert [v.message for v in policies.lambda_alarms(records)] == [
        f"no {[missing]} alarm with actions"
    ]


def test_lambda_alarm_policy_ignores_alarms_without_actions() -> None:
    records = [
        rec(r.type, r.name, **{**r.inputs, "alarmActions": []})
        if r.type == policies.METRIC_ALARM
        else r
        for r in function()
    ]
    assert policies.lambda_alarms(records)


def in_region(records: List[ResourceRecord], region: str) -> List[ResourceRecord]:
    """The same resources declared in another region (pulumi-aws v7 ``region`` input)."""
    return [rec(r.type, r.name, **{**r.inputs, "region": region}) for r in records]


def test_region_aware_rules_do_not_count_another_regions_group_or_alarm() -> None:
    standby = in_region([r for r in function() if r.type == policies.FUNCTION], "us-west-2")
    primary_group_and_alarms = [r for r in function() if r.type != policies.FUNCTION]
    records = [TAGGED_PROVIDER, *primary_group_and_alarms, *standby]
    assert names_of(policies.log_retention(records)) == [f"{policies.FUNCTION}::fn"]
    assert names_of(policies.lambda_alarms(records)) == [f"{policies.FUNCTION}::fn"]
    assert policies.log_retention(in_region(function(), "us-west-2")) == []
    assert policies.lambda_alarms(in_region(function(), "us-west-2")) == []


LOGS_STREAM = rec(policies.FIREHOSE, "logs-stream", name="logs", region="us-east-1")


def subscription(**overrides: Any) -> ResourceRecord:
    inputs = {
        "logGroup": "/aws/lambda/fn",
        "filterPattern": "",
        "destinationArn": "arn:aws:firehose:us-east-1:1:deliverystream/logs",
        "region": "us-east-1",
        **overrides,
    }
    return rec(policies.LOG_SUBSCRIPTION, "fn-logs-to-lake", **inputs)


def test_logs_to_lake_policy_catches_a_function_whose_logs_stay_out_of_bronze() -> None:
    functions = in_region(function(), "us-east-1")
    fn_ref = f"{policies.FUNCTION}::fn"
    assert policies.function_logs_to_lake([LOGS_STREAM, *functions, subscription()]) == []
    assert names_of(policies.function_logs_to_lake([LOGS_STREAM, *functions])) == [fn_ref]
    for bad in (
        subscription(filterPattern="ERROR"),  # only some events
        subscription(destinationArn="arn:aws:lambda:us-east-1:1:function:x"),
        subscription(logGroup="/aws/lambda/other"),
        subscription(region="us-west-2"),
    ):
        found = policies.function_logs_to_lake([LOGS_STREAM, *functions, bad])
        assert names_of(found) == [fn_ref], bad.inputs
    # A region without a delivery stream (the warm standby) is exempt.
    assert policies.function_logs_to_lake([LOGS_STREAM, *in_region(function(), "eu-west-1")]) == []


def test_alarm_policy_catches_silent_alarms() -> None:
    silent = [
        rec(policies.METRIC_ALARM, "none", alarmActions=[]),
        rec(policies.METRIC_ALARM, "not-sns", alarmActions=["arn:aws:lambda:r:1:function:f"]),
        rec(
            policies.METRIC_ALARM,
            "disabled",
            alarmActions=["arn:aws:sns:r:1:t"],
            actionsEnabled=False,
        ),
    ]
    assert names_of(policies.alarms_notify(silent)) == sorted(r.ref for r in silent)


def test_tag_policy_catches_untagged_and_partially_tagged_resources() -> None:
    untagged_provider = ResourceRecord(
        policies.AWS_PROVIDER, "bare", {}, urn="urn:pulumi:s::p::pulumi:providers:aws::bare"
    )
    records = [
        TAGGED_PROVIDER,
        untagged_provider,
        rec(policies.QUEUE, "default-provider", provider=""),
        rec(policies.QUEUE, "bare-provider", provider=untagged_provider.urn + "::id"),
        rec(
            policies.QUEUE,
            "three-tags",
            provider="",
            tags={"Project": "p", "Owner": "o", "Environment": "e"},
        ),
        rec(
            policies.QUEUE, "own-tags", provider="", tags=dict.fromkeys(policies.REQUIRED_TAGS, "v")
        ),
        rec(policies.QUEUE, "provider-tags"),
        rec("aws:kms/alias:Alias", "untaggable", provider=""),
    ]
    assert names_of(policies.tagged(records)) == [
        f"{policies.QUEUE}::bare-provider",
        f"{policies.QUEUE}::default-provider",
        f"{policies.QUEUE}::three-tags",
    ]


def test_taggability_comes_from_the_provider_schema() -> None:
    assert policies.is_taggable("aws:lambda/function:Function")
    assert policies.is_taggable("aws:s3/bucket:Bucket")
    assert not policies.is_taggable("aws:kms/alias:Alias")
    assert not policies.is_taggable("aws:s3/bucketPolicy:BucketPolicy")
    assert not policies.is_taggable("random:index/randomPassword:RandomPassword")


def test_every_resource_is_a_child_of_one_of_the_five_components(run: StackRun) -> None:
    components = {
        "todo:platform:TodoData",
        "todo:platform:TodoApi",
        "todo:platform:TodoEtl",
        "todo:platform:TodoKpiAggregator",
        "todo:platform:TodoMonitoring",
    }
    assert {r.type for r in run.records if r.type.startswith("todo:")} == components
    for record in run.records:
        if record.type.startswith(("aws:", "random:")):
            parent_type = record.urn.split("::")[2].split("$")[0]
            assert parent_type in components, record.ref


# --- resource policies: trust, key, topic, queue ------------------------------------------------

ANYONE = {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}


@pytest.mark.parametrize(
    ("typ", "key"),
    [
        (policies.ROLE, "assumeRolePolicy"),
        (policies.KMS_KEY, "policy"),
        (policies.TOPIC_POLICY, "policy"),
        (policies.QUEUE_POLICY, "policy"),
        (policies.BUCKET_POLICY, "policy"),
    ],
    ids=["trust", "key", "topic", "queue", "bucket"],
)
@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::1:root", "*"]}])
def test_anonymous_principal_policy_catches_every_resource_policy(
    typ: str, key: str, principal: Any
) -> None:
    statement = {**ANYONE, "Principal": principal}
    bad = rec(typ, "r", **{key: json.dumps({"Statement": [statement]})})
    violations = policies.no_anonymous_principals([bad])
    assert [v.resource for v in violations] == [bad.ref]
    fenced = {**statement, "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}
    ok = rec(typ, "r", **{key: json.dumps({"Statement": [fenced]})})
    assert policies.no_anonymous_principals([ok]) == []


def test_anonymous_principal_policy_ignores_denies_and_named_principals() -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*"}
    service = {"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "x"}
    record = rec(policies.ROLE, "r", assumeRolePolicy=json.dumps({"Statement": [deny, service]}))
    assert policies.no_anonymous_principals([record]) == []
    not_principal = {"Effect": "Allow", "NotPrincipal": {"AWS": "1"}, "Action": "x"}
    record = rec(policies.KMS_KEY, "k", policy=json.dumps({"Statement": [not_principal]}))
    assert policies.no_anonymous_principals([record])


# --- the CrossGuard pack runs the same rules ---------------------------------------------------


class FakePolicyResource:
    """What pulumi-policy hands a stack policy for each resource."""

    def __init__(self, record: ResourceRecord, provider: Any = None) -> None:
        self.resource_type = record.type
        self.name = record.name
        self.props = dict(record.inputs)
        self.urn = f"urn:pulumi:s::p::{record.type}::{record.name}"
        self.opts = None
        self.provider = provider


class FakeProvider:
    def __init__(self, record: ResourceRecord) -> None:
        self.props = dict(record.inputs)
        self.urn, self.name = record.urn, record.name


@pytest.mark.parametrize("policy_name", sorted(POLICIES))
def test_the_policy_pack_reports_what_the_rules_find(run: StackRun, policy_name: str) -> None:
    from todo_platform import crossguard

    rule = POLICIES[policy_name]
    (provider,) = run.of_type("pulumi:providers:aws")
    resources = [
        FakePolicyResource(r, FakeProvider(provider))
        for r in run.records
        if not r.type.startswith("pulumi:")
    ]
    assert crossguard.violations(rule, resources) == []
    bad = rec(policies.ROLE, "r", assumeRolePolicy=json.dumps({"Statement": [ANYONE]}))
    caught = crossguard.violations(policies.no_anonymous_principals, [FakePolicyResource(bad)])
    assert caught == ["Allow to Principal '*' without a condition"]
    untagged = rec(policies.BUCKET, "b", bucket="b")
    assert crossguard.violations(policies.tagged, [FakePolicyResource(untagged)])


def test_the_policy_pack_gives_region_aware_rules_the_providers_region() -> None:
    from todo_platform import crossguard

    provider = rec(policies.AWS_PROVIDER, "aws", region="eu-west-1", defaultTags="{}")
    own = crossguard.to_record(
        FakePolicyResource(rec(policies.FUNCTION, "f", name="f"), FakeProvider(provider))
    )
    assert own.inputs["region"] == "eu-west-1"
    elsewhere = crossguard.to_record(
        FakePolicyResource(
            rec(policies.FUNCTION, "g", name="g", region="us-west-2"), FakeProvider(provider)
        )
    )
    assert elsewhere.inputs["region"] == "us-west-2"


def test_the_policy_pack_registers_every_rule() -> None:
    main = (PROJECT_DIR / "policy-pack" / "__main__.py").read_text()
    assert "for name, rule in POLICIES.items()" in main
    assert "EnforcementLevel.MANDATORY" in main
    requirements = (PROJECT_DIR / "policy-pack" / "requirements.txt").read_text()
    assert "pulumi-policy" in requirements
