"""The bootstrap program: the Pulumi state backend, the secrets key and the CI roles.

Run once per AWS account (README). It creates:

* the **state bucket** the stages' stacks live in (``pulumi login s3://...``):
  versioned, SSE-KMS, all public access blocked, TLS-only, protected;
* the **secrets key** (alias ``todo-pulumi-secrets``), the stacks' secrets
  provider (``secretsprovider: awskms://alias/todo-pulumi-secrets`` in each
  ``Pulumi.<stage>.yaml``);
* the **GitHub OIDC provider**, and per stage two roles GitHub Actions
  assume from that stage's environments: ``<stage>`` (deploy) and
  ``<stage>-preview`` (read-only AWS access, its own stack's state, and the
  ``kms:Decrypt`` a preview needs to read the stack's secrets);
* the activation of the four **cost-allocation tags** the stages' budgets
  filter on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import pulumi
import pulumi_aws as aws

PROJECT = "todo-bootstrap"
#: The stages' Pulumi project (their state lives under it in the bucket).
PLATFORM_PROJECT = "todo-platform"
SECRETS_KEY_ALIAS = "alias/todo-pulumi-secrets"
GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
#: The tags every resource of a stage carries; budgets filter on Environment.
COST_ALLOCATION_TAGS = ("Project", "Owner", "Environment", "CostCenter")
#: What the deploy role manages: the services the platform program declares.
DEPLOY_SERVICES = (
    "apigateway",
    "athena",
    "budgets",
    "cloudwatch",
    "cognito-idp",
    "dynamodb",
    "events",
    "firehose",
    "glue",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
)
#: Data-plane reads a preview role is denied (the table's items, the lake's objects).
DATA_READS = (
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:GetRecords",
    "dynamodb:Query",
    "dynamodb:Scan",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "athena:GetQueryResults",
    "secretsmanager:GetSecretValue",
)
READ_ONLY_POLICY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@dataclass(frozen=True)
class BootstrapSettings:
    account_id: str
    region: str
    #: ``owner/name`` of the GitHub repository whose workflows deploy.
    github_repository: str
    state_bucket: str
    stages: List[str] = field(default_factory=lambda: ["dev", "staging", "prod"])


def document(statements: List[Dict[str, Any]]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})


def github_trust(settings: BootstrapSettings, provider_arn: pulumi.Input[str], env: str):  # type: ignore[no-untyped-def]
    """Only this repository's jobs running in GitHub environment ``env`` may assume the role."""
    return document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
                        f"{GITHUB_OIDC_HOST}:sub": (
                            f"repo:{settings.github_repository}:environment:{env}"
                        ),
                    }
                },
            }
        ]
    )


def state_access(
    bucket_arn: pulumi.Input[str], key_arn: pulumi.Input[str], stage: Optional[str]
) -> List[Dict[str, Any]]:
    """Read and write the stage's state files (``stage`` None: every stage), use the key."""
    # The backend keeps a stack's files under .pulumi/<kind>/[organization/]<project>/<stack>
    # (stacks, locks, history, backups); IAM's `*` also matches `/`.
    objects = (
        [pulumi.Output.concat(bucket_arn, "/.pulumi/*")]
        if stage is None
        else [
            pulumi.Output.concat(bucket_arn, f"/.pulumi/*/{PLATFORM_PROJECT}/{stage}*"),
            pulumi.Output.concat(bucket_arn, "/.pulumi/meta.yaml"),
        ]
    )
    return [
        {
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": [bucket_arn],
        },
        {
            "Effect": "Allow",
            "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            "Resource": objects,
        },
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": [key_arn],
        },
    ]


class Bootstrap(pulumi.ComponentResource):
    def __init__(self, name: str, settings: BootstrapSettings, opts=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__("todo:bootstrap:Bootstrap", name, None, opts)
        self._settings = settings
        self.secrets_key = self._secrets_key()
        self.state_bucket = self._state_bucket()
        self.oidc = aws.iam.OpenIdConnectProvider(
            "github-oidc",
            url=GITHUB_OIDC_URL,
            client_id_lists=["sts.amazonaws.com"],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.deploy_roles = {s: self._deploy_role(s) for s in settings.stages}
        self.preview_roles = {s: self._preview_role(s) for s in settings.stages}
        for tag in COST_ALLOCATION_TAGS:
            aws.costexplorer.CostAllocationTag(
                f"cost-tag-{tag.lower()}",
                tag_key=tag,
                status="Active",
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({})

    def _child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _secrets_key(self) -> aws.kms.Key:
        account = self._settings.account_id
        key = aws.kms.Key(
            "secrets-key",
            description="Encrypts the secrets in the todo-platform stacks' state",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountAdministersThroughIam",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                }
            ),
            # Losing it makes every stack's secrets unreadable.
            opts=self._child(protect=True),
        )
        aws.kms.Alias(
            "secrets-key-alias",
            name=SECRETS_KEY_ALIAS,
            target_key_id=key.key_id,
            opts=self._child(),
        )
        return key

    def _state_bucket(self) -> aws.s3.Bucket:
        bucket = aws.s3.Bucket(
            "state-bucket", bucket=self._settings.state_bucket, opts=self._child(protect=True)
        )
        aws.s3.BucketVersioning(
            "state-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=self._child(),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            "state-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=self.secrets_key.arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=self._child(),
        )
        public = aws.s3.BucketPublicAccessBlock(
            "state-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self._child(),
        )
        aws.s3.BucketPolicy(
            "state-tls-only",
            bucket=bucket.id,
            policy=document(
                [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ]
            ),
            opts=self._child(depends_on=[public]),
        )
        return bucket

    def _deploy_role(self, stage: str) -> aws.iam.Role:
        role = aws.iam.Role(
            f"deploy-{stage}",
            name=f"todo-deploy-{stage}",
            description=f"GitHub Actions, environment {stage}: pulumi up",
            assume_role_policy=github_trust(self._settings, self.oidc.arn, stage),
            max_session_duration=3600,
            opts=self._child(),
        )
        statements = state_access(self.state_bucket.arn, self.secrets_key.arn, stage)
        statements.append(
            {
                "Effect": "Allow",
                "Action": [f"{service}:*" for service in DEPLOY_SERVICES]
                + ["sts:GetCallerIdentity"],
                "Resource": "*",
            }
        )
        aws.iam.RolePolicy(
            f"deploy-{stage}-policy", role=role.id, policy=document(statements), opts=self._child()
        )
        return role

    def _preview_role(self, stage: str) -> aws.iam.Role:
        env = f"{stage}-preview"
        role = aws.iam.Role(
            f"preview-{stage}",
            name=f"todo-preview-{stage}",
            description=f"GitHub Actions, environment {env}: pulumi preview (read-only)",
            assume_role_policy=github_trust(self._settings, self.oidc.arn, env),
            max_session_duration=3600,
            opts=self._child(),
        )
        aws.iam.RolePolicyAttachment(
            f"preview-{stage}-read-only",
            role=role.name,
            policy_arn=READ_ONLY_POLICY_ARN,
            opts=self._child(),
        )
        statements = state_access(self.state_bucket.arn, self.secrets_key.arn, stage)
        # ReadOnlyAccess reads data too: a preview (pull requests included)
        # must not read users' tasks or the lake (the state files excepted).
        statements.append(
            {
                "Sid": "NoUserData",
                "Effect": "Deny",
                "Action": list(DATA_READS),
                "NotResource": [pulumi.Output.concat(self.state_bucket.arn, "/*")],
            }
        )
        aws.iam.RolePolicy(
            f"preview-{stage}-state",
            role=role.id,
            policy=document(statements),
            opts=self._child(),
        )
        return role


def load_settings() -> BootstrapSettings:
    config = pulumi.Config(PROJECT)
    identity = aws.get_caller_identity()
    return BootstrapSettings(
        account_id=identity.account_id,
        region=pulumi.Config("aws").require("region"),
        github_repository=config.require("githubRepository"),
        state_bucket=config.require("stateBucket"),
        stages=config.get_object("stages") or ["dev", "staging", "prod"],
    )


def main() -> None:
    bootstrap = Bootstrap("bootstrap", load_settings())
    pulumi.export("stateBucket", bootstrap.state_bucket.bucket)
    pulumi.export(
        "backendUrl",
        pulumi.Output.concat(
            "s3://",
            bootstrap.state_bucket.bucket,
            "?region=",
            bootstrap._settings.region,
            "&awssdk=v2",
        ),
    )
    pulumi.export(
        "secretsProvider", f"awskms://{SECRETS_KEY_ALIAS}?region={bootstrap._settings.region}"
    )
    pulumi.export("deployRoleArns", {s: r.arn for s, r in bootstrap.deploy_roles.items()})
    pulumi.export("previewRoleArns", {s: r.arn for s, r in bootstrap.preview_roles.items()})
