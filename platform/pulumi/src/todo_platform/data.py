"""TodoData: the single table, and the keys that encrypt data at rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import pulumi
import pulumi_aws as aws

from todo_core.keys import TABLE_SPEC
from todo_core.naming import ResourceNames
from todo_platform import iam
from todo_platform.blocks import child, kms_key, logs_key_statement
from todo_platform.config import Settings


@dataclass(frozen=True)
class StandbyKeys:
    """The stage's keys in its second region (a KMS key never leaves its region).

    ``table`` encrypts the table's replica; ``logs`` the standby API's log
    groups; ``secrets`` the replicas of the stage's secrets.
    """

    region: str
    table: pulumi.Output[str]
    logs: pulumi.Output[str]
    secrets: pulumi.Output[str]


def table_replicas(
    settings: Settings, replica_key_arn: Optional[pulumi.Input[str]]
) -> Optional[List[aws.dynamodb.TableReplicaArgs]]:
    """The global table's replica in the second region, protected like the table itself."""
    region = settings.standby_region
    if region is None or not settings.secondary_region.replicate_table:
        return None
    return [
        aws.dynamodb.TableReplicaArgs(
            region_name=region,
            kms_key_arn=replica_key_arn,
            point_in_time_recovery=settings.data.point_in_time_recovery,
            deletion_protection_enabled=settings.data.deletion_protection,
            propagate_tags=True,
        )
    ]


def table_args(table_name: str, settings: Settings, kms_key_arn: pulumi.Input[str]) -> dict:
    """The table's arguments, translated from ``TABLE_SPEC``'s CreateTable request."""
    request = TABLE_SPEC.create_table_request(table_name)
    key_schema = {k["KeyType"]: k["AttributeName"] for k in request["KeySchema"]}
    stream = request["StreamSpecification"]
    return {
        "name": request["TableName"],
        "billing_mode": request["BillingMode"],
        "hash_key": key_schema["HASH"],
        "range_key": key_schema["RANGE"],
        "attributes": [
            aws.dynamodb.TableAttributeArgs(name=a["AttributeName"], type=a["AttributeType"])
            for a in request["AttributeDefinitions"]
        ],
        "global_secondary_indexes": [
            aws.dynamodb.TableGlobalSecondaryIndexArgs(
                name=index["IndexName"],
                key_schemas=[
                    aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                        attribute_name=k["AttributeName"], key_type=k["KeyType"]
                    )
                    for k in index["KeySchema"]
                ],
                projection_type=index["Projection"]["ProjectionType"],
            )
            for index in request["GlobalSecondaryIndexes"]
        ],
        "stream_enabled": stream["StreamEnabled"],
        "stream_view_type": stream["StreamViewType"],
        "ttl": aws.dynamodb.TableTtlArgs(attribute_name=TABLE_SPEC.ttl_attribute, enabled=True),
        "point_in_time_recovery": aws.dynamodb.TablePointInTimeRecoveryArgs(
            enabled=settings.data.point_in_time_recovery
        ),
        "server_side_encryption": aws.dynamodb.TableServerSideEncryptionArgs(
            enabled=True, kms_key_arn=kms_key_arn
        ),
        "deletion_protection_enabled": settings.data.deletion_protection,
    }


#: Table properties the CDK deployment may have set differently; while its
#: live table is being imported they are read, not changed (README, "Adopting").
ADOPTED_TABLE_IGNORED = (
    "serverSideEncryption",
    "pointInTimeRecovery",
    "deletionProtectionEnabled",
    "ttl",
    "tags",
    "replicas",
)


@dataclass(frozen=True)
class TodoDataArgs:
    settings: Settings
    names: ResourceNames


class TodoData(pulumi.ComponentResource):
    """The DynamoDB table (keys, GSIs, TTL and stream from todo_core) and the data keys.

    ``table_key`` encrypts the table and its stream; ``logs_key`` every log
    group of the stage (request logs hold user ids and e-mails);
    ``secrets_key`` the stage's secrets in Secrets Manager.
    """

    def __init__(
        self, name: str, args: TodoDataArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("todo:platform:TodoData", name, None, opts)
        settings, names = args.settings, args.names
        account = names.account_id
        self.table_key = kms_key(
            self, "table", names.table, f"Encrypts {names.table} and its stream", account, settings
        )
        self.logs_key = kms_key(
            self,
            "logs",
            names.logs_key_alias,
            f"Encrypts the {settings.stage} log groups",
            account,
            settings,
            service_statements=[logs_key_statement(settings.region, account)],
        )
        self.secrets_key = kms_key(
            self,
            "secrets",
            names.secrets_key_alias,
            f"Encrypts the {settings.stage} secrets (Secrets Manager)",
            account,
            settings,
        )
        self.standby_keys = self._standby_keys(settings, names)
        self.table = self._table(settings, names)
        self.table_name: pulumi.Output[str] = self.table.name
        self.table_arn: pulumi.Output[str] = self.table.arn
        self.stream_arn: pulumi.Output[str] = self.table.stream_arn
        self.register_outputs(
            {"tableName": self.table_name, "tableArn": self.table_arn, "streamArn": self.stream_arn}
        )

    def _standby_keys(self, settings: Settings, names: ResourceNames) -> Optional[StandbyKeys]:
        region = settings.standby_region
        if region is None:
            return None
        account = names.account_id

        def key(
            key_name: str, alias: str, what: str, statements: Sequence[iam.Statement] = ()
        ) -> pulumi.Output[str]:
            description = f"Encrypts {what} in the {settings.stage} standby region"
            created = kms_key(
                self, key_name, alias, description, account, settings, statements, region=region
            )
            return created.arn

        return StandbyKeys(
            region=region,
            table=key("table-standby", names.table, f"the replica of {names.table}"),
            logs=key(
                "logs-standby",
                names.logs_key_alias,
                "the log groups",
                [logs_key_statement(region, account)],
            ),
            secrets=key("secrets-standby", names.secrets_key_alias, "the secrets' replicas"),
        )

    def _table(self, settings: Settings, names: ResourceNames) -> aws.dynamodb.Table:
        adopt = settings.adopt
        # Deletion protection in AWS, and in Pulumi too: `pulumi destroy`
        # refuses instead of failing half-way. An adopted table (the CDK
        # deployment's, with real data) is always protected and kept on delete.
        opts = child(self, protect=settings.data.deletion_protection)
        if adopt.table:
            opts = child(
                self,
                protect=True,
                retain_on_delete=True,
                import_=adopt.table if adopt.importing else None,
                ignore_changes=list(ADOPTED_TABLE_IGNORED) if adopt.importing else None,
            )
        replica_key = self.standby_keys.table if self.standby_keys else None
        return aws.dynamodb.Table(
            "table",
            **table_args(adopt.table or names.table, settings, self.table_key.arn),
            replicas=table_replicas(settings, replica_key),
            opts=opts,
        )
