"""TodoData: the single table, and the keys that encrypt data at rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from todo_core.keys import TABLE_SPEC
from todo_core.naming import ResourceNames
from todo_platform.blocks import child, kms_key, logs_key_statement
from todo_platform.config import Settings


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
        self.table = self._table(settings, names)
        self.table_name: pulumi.Output[str] = self.table.name
        self.table_arn: pulumi.Output[str] = self.table.arn
        self.stream_arn: pulumi.Output[str] = self.table.stream_arn
        self.register_outputs(
            {"tableName": self.table_name, "tableArn": self.table_arn, "streamArn": self.stream_arn}
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
        return aws.dynamodb.Table(
            "table",
            **table_args(adopt.table or names.table, settings, self.table_key.arn),
            opts=opts,
        )
