"""Policies over every resource a program declares.

A policy takes the full list of declared resources (type token, logical name,
inputs as the engine receives them, provider reference) and returns the
violations it finds. The unit tests record every resource of each stage with
Pulumi's mocks and run all policies over the record; each policy is also
tested against a synthetic violating resource, so a policy that can never
fail would be noticed.

Input keys are the engine's (camelCase) property names.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from todo_core.keys import TABLE_SPEC

REQUIRED_TAGS = ("Project", "Owner", "Environment", "CostCenter")

TABLE = "aws:dynamodb/table:Table"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl"
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
TOPIC = "aws:sns/topic:Topic"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"  # noqa: S105 - a type token
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 - a type token
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
WORKGROUP = "aws:athena/workgroup:Workgroup"
KMS_KEY = "aws:kms/key:Key"
FUNCTION = "aws:lambda/function:Function"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_SUBSCRIPTION = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
MANAGED_POLICY_ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
)
AWS_PROVIDER = "pulumi:providers:aws"
GLUE_JOB = "aws:glue/job:Job"
GLUE_SECURITY_CONFIGURATION = "aws:glue/securityConfiguration:SecurityConfiguration"
#: The log groups Glue 5 writes a Spark job's logs to, under ``--custom-logGroup-prefix``.
GLUE_SPARK_LOG_STREAMS = ("output", "error")

#: Resource types that store data but have no encryption rule below: declaring
#: one fails the policy until a rule is written for it.
UNCHECKED_STORAGE_TYPES = frozenset(
    {
        "aws:s3/bucketV2:BucketV2",
        "aws:kinesis/stream:Stream",
        "aws:efs/fileSystem:FileSystem",
        "aws:ebs/volume:Volume",
        "aws:rds/instance:Instance",
        "aws:rds/cluster:Cluster",
        "aws:dynamodb/globalTable:GlobalTable",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:opensearch/domain:Domain",
        "aws:ssm/parameter:Parameter",
    }
)
#: Actions AWS does not scope to resources: ``*`` is their only valid resource.
WILDCARD_RESOURCE_ACTIONS = frozenset(
    {"cloudwatch:PutMetricData", "xray:PutTelemetryRecords", "xray:PutTraceSegments"}
)
#: ...and the condition that must fence each of them in, when there is one.
REQUIRED_CONDITION_KEYS = {"cloudwatch:PutMetricData": "cloudwatch:namespace"}
PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})


@dataclass(frozen=True)
class ResourceRecord:
    """One declared resource as the engine sees it."""

    type: str
    name: str
    inputs: Mapping[str, Any]
    #: ``"<provider URN>::<provider id>"``, or empty for the default provider.
    provider: str = ""
    urn: str = ""
    #: Resource options (Pulumi's ``protect``, ``retainOnDelete``, ``import``).
    protect: bool = False
    retain_on_delete: bool = False
    import_id: str = ""
    ignore_changes: Tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.type}::{self.name}"


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"[{self.policy}] {self.resource}: {self.message}"


Policy = Callable[[Sequence[ResourceRecord]], List[Violation]]
POLICIES: Dict[str, Policy] = {}


def _policy(name: str) -> Callable[[Policy], Policy]:
    def register(fn: Policy) -> Policy:
        POLICIES[name] = fn
        fn.policy_name = name  # type: ignore[attr-defined]
        return fn

    return register


def run_all(records: Sequence[ResourceRecord]) -> List[Violation]:
    return [v for policy in POLICIES.values() for v in policy(records)]


# --- helpers ---------------------------------------------------------------------------


def of_type(records: Iterable[ResourceRecord], *types: str) -> List[ResourceRecord]:
    return [r for r in records if r.type in types]


def _get(mapping: Any, *path: Any) -> Any:
    for key in path:
        if isinstance(mapping, Mapping):
            mapping = mapping.get(key)
        elif isinstance(mapping, (list, tuple)) and isinstance(key, int) and len(mapping) > key:
            mapping = mapping[key]
        else:
            return None
    return mapping


def _as_list(value: Any) -> List[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _document(value: Any) -> Dict[str, Any]:
    if isinstance(value, str):
        return json.loads(value)  # type: ignore[no-any-return]
    return dict(value or {})


def arn_region(arn: Any) -> str:
    """``arn:aws:kms:us-west-2:...`` -> ``us-west-2`` (empty when not an ARN)."""
    parts = str(arn or "").split(":")
    return parts[3] if len(parts) > 4 and parts[0] == "arn" else ""


def bucket_name(record: ResourceRecord) -> str:
    return str(record.inputs.get("bucket") or record.name)


def provider_region(records: Sequence[ResourceRecord], reference: str) -> str:
    """The region of the provider a resource is declared with (its ``region`` input)."""
    provider = _provider(records, reference)
    return str(provider.inputs.get("region") or "") if provider else ""


def region_of(records: Sequence[ResourceRecord], record: ResourceRecord) -> str:
    """Where a resource lives: its own ``region`` input (pulumi-aws v7) or its provider's."""
    return str(record.inputs.get("region") or provider_region(records, record.provider))


def _for_bucket(records: Sequence[ResourceRecord], kind: str, bucket: str) -> List[ResourceRecord]:
    return [r for r in of_type(records, kind) if r.inputs.get("bucket") == bucket]


# --- encryption at rest -----------------------------------------------------------------


def _bucket_encrypted(records: Sequence[ResourceRecord], bucket: ResourceRecord) -> bool:
    configs = [bucket.inputs.get("serverSideEncryptionConfiguration")] + [
        r.inputs for r in _for_bucket(records, BUCKET_SSE, bucket_name(bucket))
    ]
    for config in configs:
        for rule in _as_list(_get(config, "rules")) + _as_list(_get(config, "rule")):
            default = _get(rule, "applyServerSideEncryptionByDefault") or {}
            if default.get("sseAlgorithm") in ("aws:kms", "aws:kms:dsse") and default.get(
                "kmsMasterKeyId"
            ):
                return True
    return False


@_policy("encryption-at-rest")
def encryption_at_rest(records: Sequence[ResourceRecord]) -> List[Violation]:
    """Every data store is encrypted, with a customer-managed key where AWS allows it."""
    out: List[Violation] = []

    def fail(record: ResourceRecord, message: str) -> None:
        out.append(Violation("encryption-at-rest", record.ref, message))

    for r in records:
        i = r.inputs
        if r.type == TABLE:
            if not (
                _get(i, "serverSideEncryption", "enabled")
                and _get(i, "serverSideEncryption", "kmsKeyArn")
            ):
                fail(r, "table not encrypted with a customer-managed KMS key")
            for replica in _as_list(i.get("replicas")):
                region = replica.get("regionName")
                if arn_region(replica.get("kmsKeyArn")) != region:
                    fail(r, f"replica in {region} not encrypted with a customer-managed key there")
        elif r.type == BUCKET:
            if not _bucket_encrypted(records, r):
                fail(r, "bucket has no SSE-KMS default encryption")
        elif r.type == TOPIC:
            if not i.get("kmsMasterKeyId"):
                fail(r, "topic not encrypted with KMS")
        elif r.type == QUEUE:
            if not (i.get("kmsMasterKeyId") or i.get("sqsManagedSseEnabled")):
                fail(r, "queue not encrypted (neither SSE-KMS nor SSE-SQS)")
        elif r.type == LOG_GROUP:
            if not i.get("kmsKeyId"):
                fail(r, "log group not encrypted with the logs KMS key")
        elif r.type == FIREHOSE:
            sse = i.get("serverSideEncryption") or {}
            if not (sse.get("enabled") and sse.get("keyType") == "CUSTOMER_MANAGED_CMK"):
                fail(r, "delivery stream not encrypted with a customer-managed key")
            if i.get("destination") == "extended_s3" and not _get(
                i, "extendedS3Configuration", "kmsKeyArn"
            ):
                fail(r, "delivered objects not encrypted with a KMS key")
        elif r.type == WORKGROUP:
            option = _get(
                i,
                "configuration",
                "resultConfiguration",
                "encryptionConfiguration",
                "encryptionOption",
            )
            if option not in ("SSE_KMS", "CSE_KMS"):
                fail(r, "query results not encrypted with KMS")
        elif r.type == SECRET:
            if not i.get("kmsKeyId"):
                fail(r, "secret not encrypted with a customer-managed key")
            for replica in _as_list(i.get("replicas")):
                if not replica.get("kmsKeyId"):
                    fail(r, f"secret replica in {replica.get('region')} without a customer key")
        elif r.type == KMS_KEY:
            if not i.get("enableKeyRotation"):
                fail(r, "key rotation disabled")
        elif r.type in UNCHECKED_STORAGE_TYPES:
            fail(r, "a data store without an encryption rule in this policy")
    return out


# --- buckets ---------------------------------------------------------------------------


def _public_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any("*" in _as_list(v) for v in principal.values())
    return False


@_policy("no-public-buckets")
def no_public_buckets(records: Sequence[ResourceRecord]) -> List[Violation]:
    """All four Block Public Access switches on, no public ACL, no public Allow."""
    out: List[Violation] = []
    for bucket in of_type(records, BUCKET):
        name = bucket_name(bucket)
        blocks = _for_bucket(records, BUCKET_PAB, name)
        switches = (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
        if not any(all(b.inputs.get(s) is True for s in switches) for b in blocks):
            out.append(
                Violation("no-public-buckets", bucket.ref, "Block Public Access not fully on")
            )
        acls = [bucket.inputs.get("acl")] + [
            r.inputs.get("acl") for r in _for_bucket(records, BUCKET_ACL, name)
        ]
        if any(acl in PUBLIC_ACLS for acl in acls):
            out.append(Violation("no-public-buckets", bucket.ref, "public canned ACL"))
        for policy in _for_bucket(records, BUCKET_POLICY, name):
            for s in _as_list(_document(policy.inputs.get("policy")).get("Statement")):
                if s.get("Effect") == "Allow" and _public_principal(s.get("Principal")):
                    out.append(Violation("no-public-buckets", policy.ref, "Allow to everyone"))
    return out


def _denies_insecure_transport(statement: Mapping[str, Any], bucket: str) -> bool:
    arn = f"arn:aws:s3:::{bucket}"
    actions = _as_list(statement.get("Action"))
    resources = set(_as_list(statement.get("Resource")))
    return (
        statement.get("Effect") == "Deny"
        and _public_principal(statement.get("Principal"))
        and ("s3:*" in actions)
        and {arn, f"{arn}/*"} <= resources
        and str(_get(statement, "Condition", "Bool", "aws:SecureTransport")).lower() == "false"
    )


@_policy("tls-only-buckets")
def tls_only_buckets(records: Sequence[ResourceRecord]) -> List[Violation]:
    """Every bucket's policy denies any request made without TLS, on the bucket and its objects."""
    out: List[Violation] = []
    for bucket in of_type(records, BUCKET):
        name = bucket_name(bucket)
        statements = [
            s
            for policy in _for_bucket(records, BUCKET_POLICY, name)
            for s in _as_list(_document(policy.inputs.get("policy")).get("Statement"))
        ]
        if not any(_denies_insecure_transport(s, name) for s in statements):
            out.append(Violation("tls-only-buckets", bucket.ref, "no TLS-only bucket policy"))
    return out


def _versioned(records: Sequence[ResourceRecord], bucket: str) -> bool:
    return any(
        _get(v.inputs, "versioningConfiguration", "status") == "Enabled"
        for v in _for_bucket(records, BUCKET_VERSIONING, bucket)
    )


def _replication_problems(records: Sequence[ResourceRecord], config: ResourceRecord) -> List[str]:
    buckets = {bucket_name(b): b for b in of_type(records, BUCKET)}
    source = str(config.inputs.get("bucket"))
    problems = [] if config.inputs.get("role") else ["no replication role"]
    rules = _as_list(config.inputs.get("rules"))
    if not rules:
        problems.append("no replication rule")
    for name in [source] + [str(_get(r, "destination", "bucket")) for r in rules]:
        name = name.removeprefix("arn:aws:s3:::")
        if name not in buckets:
            problems.append(f"{name} is not a bucket of this program (its rules cannot check it)")
        elif not _versioned(records, name):
            problems.append(f"{name} is not versioned")
    for rule in rules:
        destination = str(_get(rule, "destination", "bucket")).removeprefix("arn:aws:s3:::")
        if rule.get("status") != "Enabled":
            problems.append(f"rule {rule.get('id')} is not enabled")
        if _get(rule, "sourceSelectionCriteria", "sseKmsEncryptedObjects", "status") != "Enabled":
            problems.append(f"rule {rule.get('id')} skips SSE-KMS objects")
        key = _get(rule, "destination", "encryptionConfiguration", "replicaKmsKeyId")
        if destination in buckets and arn_region(key) != region_of(records, buckets[destination]):
            problems.append(f"replicas in {destination} not encrypted with a key of its region")
    return problems


@_policy("replicas-like-the-primary")
def replicas_like_the_primary(records: Sequence[ResourceRecord]) -> List[Violation]:
    """Replication copies every object (SSE-KMS ones too) between versioned buckets of this
    program, encrypting replicas with a customer key of the copy's region.

    The copy being a declared bucket puts it under every bucket rule (SSE-KMS,
    Block Public Access, TLS-only).
    """
    return [
        Violation("replicas-like-the-primary", config.ref, problem)
        for config in of_type(records, BUCKET_REPLICATION)
        for problem in _replication_problems(records, config)
    ]


# --- the table ----------------------------------------------------------------------------


@_policy("pitr-and-streams")
def pitr_and_streams(records: Sequence[ResourceRecord]) -> List[Violation]:
    """Point-in-time recovery on; the change stream on, with old and new images."""
    out: List[Violation] = []
    for table in of_type(records, TABLE):
        if not _get(table.inputs, "pointInTimeRecovery", "enabled"):
            out.append(Violation("pitr-and-streams", table.ref, "point-in-time recovery off"))
        for replica in _as_list(table.inputs.get("replicas")):
            if replica.get("pointInTimeRecovery") is not True:
                message = (
                    f"point-in-time recovery off on the replica in {replica.get('regionName')}"
                )
                out.append(Violation("pitr-and-streams", table.ref, message))
        if not table.inputs.get("streamEnabled"):
            out.append(Violation("pitr-and-streams", table.ref, "stream disabled"))
        elif table.inputs.get("streamViewType") != TABLE_SPEC.stream_view_type:
            out.append(
                Violation(
                    "pitr-and-streams",
                    table.ref,
                    f"stream view type is not {TABLE_SPEC.stream_view_type}",
                )
            )
    return out


# --- IAM ---------------------------------------------------------------------------------


def identity_policies(
    records: Sequence[ResourceRecord],
) -> List[Tuple[ResourceRecord, Dict[str, Any]]]:
    """Every identity-based policy document the program declares."""
    docs: List[Tuple[ResourceRecord, Dict[str, Any]]] = []
    for r in of_type(records, ROLE_POLICY, IAM_POLICY, USER_POLICY, GROUP_POLICY):
        docs.append((r, _document(r.inputs.get("policy"))))
    for role in of_type(records, ROLE):
        for inline in _as_list(role.inputs.get("inlinePolicies")):
            if inline.get("policy"):
                docs.append((role, _document(inline.get("policy"))))
    return docs


def _statement_problems(statement: Mapping[str, Any]) -> List[str]:
    if statement.get("Effect") != "Allow":
        return []
    problems = []
    if "NotAction" in statement or "NotResource" in statement:
        problems.append("Allow with NotAction/NotResource")
    actions = [str(a) for a in _as_list(statement.get("Action"))]
    for action in actions:
        # `*`, `s3:*`, and patterns such as `s3:Get*` or `kms:*Key*` alike.
        if "*" in action or "?" in action:
            problems.append(f"wildcard action {action!r}")
    if "*" in _as_list(statement.get("Resource")):
        scoped = [a for a in actions if a not in WILDCARD_RESOURCE_ACTIONS]
        if scoped:
            problems.append(f"resource '*' for actions that can be scoped: {sorted(scoped)}")
        for action, key in REQUIRED_CONDITION_KEYS.items():
            condition = statement.get("Condition") or {}
            if action in actions and not any(key in block for block in condition.values()):
                problems.append(f"{action} on '*' without a {key} condition")
    return problems


@_policy("iam-least-privilege")
def iam_least_privilege(records: Sequence[ResourceRecord]) -> List[Violation]:
    """No wildcard actions; ``*`` resources only where AWS offers nothing narrower."""
    out: List[Violation] = []
    for record, doc in identity_policies(records):
        for statement in _as_list(doc.get("Statement")):
            for problem in _statement_problems(statement):
                out.append(Violation("iam-least-privilege", record.ref, problem))
    for r in of_type(records, *MANAGED_POLICY_ATTACHMENTS):
        out.append(
            Violation("iam-least-privilege", r.ref, "managed policy attached (write a scoped one)")
        )
    for role in of_type(records, ROLE):
        if role.inputs.get("managedPolicyArns"):
            out.append(Violation("iam-least-privilege", role.ref, "managed policies on the role"))
    return out


# --- resource policies -------------------------------------------------------------------

#: Where each resource type keeps a resource-based policy (trust, key, topic,
#: queue, bucket, secret).
RESOURCE_POLICY_INPUTS = {
    ROLE: "assumeRolePolicy",
    KMS_KEY: "policy",
    TOPIC: "policy",
    TOPIC_POLICY: "policy",
    QUEUE: "policy",
    QUEUE_POLICY: "policy",
    BUCKET_POLICY: "policy",
    SECRET_POLICY: "policy",
}


def resource_policies(
    records: Sequence[ResourceRecord],
) -> List[Tuple[ResourceRecord, Dict[str, Any]]]:
    docs = []
    for r in records:
        key = RESOURCE_POLICY_INPUTS.get(r.type)
        if key and r.inputs.get(key):
            docs.append((r, _document(r.inputs[key])))
    return docs


@_policy("no-anonymous-principals")
def no_anonymous_principals(records: Sequence[ResourceRecord]) -> List[Violation]:
    """Trust, key, topic, queue, bucket and secret policies: no Allow to ``*`` without a condition.

    ``Principal: "*"`` (or ``{"AWS": "*"}``) lets every AWS account in; only a
    condition (source account, organisation, VPC endpoint...) narrows it.
    """
    out: List[Violation] = []
    for record, doc in resource_policies(records):
        for statement in _as_list(doc.get("Statement")):
            if statement.get("Effect") != "Allow":
                continue
            if _public_principal(statement.get("Principal")) and not statement.get("Condition"):
                out.append(
                    Violation(
                        "no-anonymous-principals",
                        record.ref,
                        "Allow to Principal '*' without a condition",
                    )
                )
            if "NotPrincipal" in statement:
                out.append(
                    Violation("no-anonymous-principals", record.ref, "Allow with NotPrincipal")
                )
    return out


def _provider(records: Sequence[ResourceRecord], reference: str) -> Optional[ResourceRecord]:
    if not reference:
        return None
    provider_urn = reference.rsplit("::", 1)[0]
    provider_name = provider_urn.rsplit("::", 1)[-1]
    for provider in of_type(records, AWS_PROVIDER):
        if provider.name == provider_name and (not provider.urn or provider.urn == provider_urn):
            return provider
    return None


# --- logs and alarms -------------------------------------------------------------------------


def function_log_group(function: ResourceRecord) -> str:
    return str(
        _get(function.inputs, "loggingConfig", "logGroup")
        or f"/aws/lambda/{function.inputs.get('name') or function.name}"
    )


@_policy("log-retention")
def log_retention(records: Sequence[ResourceRecord]) -> List[Violation]:
    """Every log group expires its events; no function writes to a group nobody created."""
    out: List[Violation] = []
    groups = {}
    for group in of_type(records, LOG_GROUP):
        groups[(region_of(records, group), group.inputs.get("name"))] = group
        if not group.inputs.get("retentionInDays"):
            out.append(Violation("log-retention", group.ref, "log group keeps events forever"))
    for function in of_type(records, FUNCTION):
        if (region_of(records, function), function_log_group(function)) not in groups:
            out.append(
                Violation(
                    "log-retention",
                    function.ref,
                    f"{function_log_group(function)} is not declared (Lambda would create it "
                    "without retention)",
                )
            )
    return out


@_policy("function-logs-to-lake")
def function_logs_to_lake(records: Sequence[ResourceRecord]) -> List[Violation]:
    """Every function in a region that hosts the lake's delivery streams ships its logs there.

    A function's log group must have a subscription filter (all events) whose
    destination is a Firehose stream. Regions without a delivery stream (the
    warm standby's) are exempt: a subscription cannot reach another region's
    stream directly (README, "Logs in bronze").
    """
    out: List[Violation] = []
    lake_regions = {region_of(records, s) for s in of_type(records, FIREHOSE)}
    subscribed = {
        (region_of(records, f), str(f.inputs.get("logGroup")))
        for f in of_type(records, LOG_SUBSCRIPTION)
        if str(f.inputs.get("destinationArn", "")).startswith("arn:aws:firehose:")
        and not f.inputs.get("filterPattern")
    }
    for function in of_type(records, FUNCTION):
        region = region_of(records, function)
        if region in lake_regions and (region, function_log_group(function)) not in subscribed:
            out.append(
                Violation(
                    "function-logs-to-lake",
                    function.ref,
                    f"{function_log_group(function)} is not delivered to a Firehose stream",
                )
            )
    return out


def _alarm_metric(alarm: ResourceRecord) -> Tuple[Optional[str], Optional[str], Dict[str, Any]]:
    i = alarm.inputs
    return i.get("namespace"), i.get("metricName"), dict(i.get("dimensions") or {})


@_policy("lambda-alarms")
def lambda_alarms(records: Sequence[ResourceRecord]) -> List[Violation]:
    """Every function has Errors and Duration alarms, in its own region, that notify someone."""
    out: List[Violation] = []
    watched: Dict[Tuple[str, str], set] = {}
    for alarm in of_type(records, METRIC_ALARM):
        namespace, metric, dims = _alarm_metric(alarm)
        if namespace == "AWS/Lambda" and alarm.inputs.get("alarmActions"):
            key = (region_of(records, alarm), str(dims.get("FunctionName")))
            watched.setdefault(key, set()).add(metric)
    for function in of_type(records, FUNCTION):
        name = str(function.inputs.get("name") or function.name)
        key = (region_of(records, function), name)
        missing = {"Errors", "Duration"} - watched.get(key, set())
        if missing:
            out.append(
                Violation("lambda-alarms", function.ref, f"no {sorted(missing)} alarm with actions")
            )
    return out


@_policy("alarms-notify")
def alarms_notify(records: Sequence[ResourceRecord]) -> List[Violation]:
    """Every alarm notifies an SNS topic when it fires."""
    out: List[Violation] = []
    for alarm in of_type(records, METRIC_ALARM):
        actions = _as_list(alarm.inputs.get("alarmActions"))
        if not actions or not all(str(a).startswith("arn:aws:sns:") for a in actions):
            out.append(Violation("alarms-notify", alarm.ref, "alarm notifies no SNS topic"))
        if alarm.inputs.get("actionsEnabled") is False:
            out.append(Violation("alarms-notify", alarm.ref, "alarm actions disabled"))
    return out


# --- Glue Spark jobs ---------------------------------------------------------------------------


def _first(value: Any) -> Any:
    """A nested block as the engine shows it: an object, or a one-item list."""
    return value[0] if isinstance(value, (list, tuple)) and value else value


def _security_configuration_problems(config: ResourceRecord) -> List[str]:
    encryption = _first(config.inputs.get("encryptionConfiguration")) or {}
    s3 = _first(encryption.get("s3Encryption")) or {}
    bookmarks = _first(encryption.get("jobBookmarksEncryption")) or {}
    logs = _first(encryption.get("cloudwatchEncryption")) or {}
    problems = []
    if s3.get("s3EncryptionMode") != "SSE-KMS" or not s3.get("kmsKeyArn"):
        problems.append("S3 output not encrypted with a KMS key (SSE-KMS)")
    if bookmarks.get("jobBookmarksEncryptionMode") != "CSE-KMS" or not bookmarks.get("kmsKeyArn"):
        problems.append("job bookmarks not encrypted with a KMS key (CSE-KMS)")
    if logs.get("cloudwatchEncryptionMode") == "SSE-KMS" and not logs.get("kmsKeyArn"):
        problems.append("CloudWatch encryption without a KMS key")
    return problems


def _spark_log_problems(records: Sequence[ResourceRecord], job: ResourceRecord) -> List[str]:
    prefix = (job.inputs.get("defaultArguments") or {}).get("--custom-logGroup-prefix")
    if not prefix:
        return ["no --custom-logGroup-prefix: logs go to Glue's groups, which never expire"]
    region = region_of(records, job)
    declared = {(region_of(records, g), g.inputs.get("name")) for g in of_type(records, LOG_GROUP)}
    return [
        f"{prefix}/{stream} is not declared (Glue would create it without retention or key)"
        for stream in GLUE_SPARK_LOG_STREAMS
        if (region, f"{prefix}/{stream}") not in declared
    ]


@_policy("glue-spark-jobs-secured")
def glue_spark_jobs_secured(records: Sequence[ResourceRecord]) -> List[Violation]:
    """Every Glue Spark job has a security configuration of this program encrypting its S3
    output and bookmarks with a KMS key, and logs to log groups this program declares.

    Declared groups fall under ``encryption-at-rest`` (the logs key) and
    ``log-retention``. Python-shell jobs (``pythonshell``) are outside this
    rule: they log to Glue's fixed, account-wide ``/aws-glue/python-jobs``
    groups (README, "Glue job logs") and are deployed as they always were.
    """
    out: List[Violation] = []
    configurations = {
        str(r.inputs.get("name") or r.name): r
        for r in of_type(records, GLUE_SECURITY_CONFIGURATION)
    }
    for job in of_type(records, GLUE_JOB):
        if _get(job.inputs, "command", "name") != "glueetl":
            continue
        problems = _spark_log_problems(records, job)
        config = configurations.get(str(job.inputs.get("securityConfiguration")))
        if config is None:
            problems.append("no security configuration of this program")
        else:
            problems += _security_configuration_problems(config)
        out += [Violation("glue-spark-jobs-secured", job.ref, p) for p in problems]
    return out


# --- tags ----------------------------------------------------------------------------------


@cache
def is_taggable(type_token: str) -> bool:
    """Whether the pulumi-aws resource type accepts ``tags``."""
    package, module_path, class_name = type_token.split(":")
    if package != "aws":
        return False
    module = module_path.split("/")[0]
    if module == "index":
        module_name = "pulumi_aws"
    else:
        module_name = f"pulumi_aws.{module}_" if module in ("lambda",) else f"pulumi_aws.{module}"
    try:
        resource_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        return True  # unknown type: demand tags rather than assume none
    return hasattr(resource_class, "tags")


def _provider_tags(records: Sequence[ResourceRecord], reference: str) -> Dict[str, Any]:
    provider = _provider(records, reference)
    if provider is None:
        return {}
    default_tags = provider.inputs.get("defaultTags") or {}
    if isinstance(default_tags, str):
        default_tags = json.loads(default_tags)
    return dict(default_tags.get("tags") or {})


@_policy("tagged")
def tagged(records: Sequence[ResourceRecord]) -> List[Violation]:
    """Every taggable resource carries the four cost-allocation tags (own or provider default)."""
    out: List[Violation] = []
    for r in records:
        if r.type.startswith("pulumi:") or not is_taggable(r.type):
            continue
        tags = {**_provider_tags(records, r.provider), **dict(r.inputs.get("tags") or {})}
        missing = [t for t in REQUIRED_TAGS if not tags.get(t)]
        if missing:
            out.append(Violation("tagged", r.ref, f"missing tags {missing}"))
    return out
