"""Create every resource of the local stage in the emulator, from the shared
specifications (table spec, resource names, lake layout) in todo_core.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import boto3
from botocore.config import Config

from todo_core import keys, lake
from todo_core.naming import LOCAL_ACCOUNT_ID, LOCAL_STAGE, ResourceNames
from todo_local.emulator import FAKE_CREDENTIALS, REGION, Emulator

#: Firehose buffering used locally is irrelevant (moto writes on every call);
#: these mirror the production defaults so describe-delivery-stream looks real.
BUFFERING = {"SizeInMBs": 5, "IntervalInSeconds": 60}


def make_client(service: str, endpoint_url: str, **config: Any) -> Any:
    """A plain boto3 client aimed at the emulator."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, **config),
    )


@dataclass
class LocalStack:
    """The provisioned local stage: names, ids and outputs."""

    endpoint_url: str
    names: ResourceNames
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    table_arn: str = ""
    stream_arn: str = ""
    extra_outputs: Dict[str, str] = field(default_factory=dict)

    def client(self, service: str, **config: Any) -> Any:
        return make_client(service, self.endpoint_url, **config)

    @property
    def issuer(self) -> str:
        """The token issuer Cognito (and moto) put in the ``iss`` claim."""
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        """Where the emulator serves the pool's signing keys."""
        return f"{self.endpoint_url}/{self.user_pool_id}/.well-known/jwks.json"

    def outputs(self) -> Dict[str, str]:
        """Shaped like ``pulumi stack output --json``, plus the emulator's address."""
        n = self.names
        return {
            "TableName": n.table,
            "TableArn": self.table_arn,
            "TableStreamArn": self.stream_arn,
            "UserPoolId": self.user_pool_id,
            "UserPoolClientId": self.user_pool_client_id,
            "BronzeBucketName": n.bronze_bucket,
            "SilverBucketName": n.silver_bucket,
            "GoldBucketName": n.gold_bucket,
            "FirehoseStreamName": n.cdc_delivery_stream,
            "LogsFirehoseStreamName": n.logs_delivery_stream,
            "GlueDatabaseName": n.glue_database,
            "AthenaWorkgroupName": n.athena_workgroup,
            "JwksUrl": self.jwks_url,
            "Issuer": self.issuer,
            "AwsEndpointUrl": self.endpoint_url,
            "Region": REGION,
            **self.extra_outputs,
        }

    def empty_data_lake(self) -> None:
        """Delete every object of the lake buckets and every catalog table (tests)."""
        s3 = self.client("s3")
        for bucket in (self.names.bronze_bucket, self.names.silver_bucket, self.names.gold_bucket):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if objects:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
        glue = self.client("glue")
        for database in (self.names.glue_database, self.names.glue_pii_database):
            for table in glue.get_tables(DatabaseName=database).get("TableList", []):
                glue.delete_table(DatabaseName=database, Name=table["Name"])

    def write_outputs(self, path: str) -> None:
        # Written aside and renamed: whoever polls for the file (a test, a
        # script waiting for `nox -s dev`) never reads half of it.
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        partial = f"{path}.partial"
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump(self.outputs(), handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(partial, path)


def glue_job_arguments(names: ResourceNames, **overrides: str) -> List[str]:
    """The ``--NAME value`` arguments Glue passes either job of this stage.

    The same set the Pulumi stack gives both jobs as default arguments, so a
    local run (``python -m todo_silver.job *arguments``) sees what Glue would;
    ``overrides`` add or replace some (``BRONZE_BUCKET="file:///..."``).
    """
    arguments = {
        "BRONZE_BUCKET": names.bronze_bucket,
        "SILVER_BUCKET": names.silver_bucket,
        "GOLD_BUCKET": names.gold_bucket,
        "DATABASE_NAME": names.glue_database,
        "STAGE": names.stage,
        "PII_HMAC_SECRET_ID": names.pii_hmac_secret,
        **overrides,
    }
    return [token for name, value in arguments.items() for token in (f"--{name}", value)]


def local_names(stage: str = LOCAL_STAGE) -> ResourceNames:
    return ResourceNames(stage=stage, account_id=LOCAL_ACCOUNT_ID, region=REGION)


def _create_table(stack: LocalStack) -> None:
    ddb = stack.client("dynamodb")
    spec = keys.TABLE_SPEC
    table = ddb.create_table(**spec.create_table_request(stack.names.table))["TableDescription"]
    ddb.update_time_to_live(
        TableName=stack.names.table,
        TimeToLiveSpecification={"AttributeName": spec.ttl_attribute, "Enabled": True},
    )
    stack.table_arn = table["TableArn"]
    stack.stream_arn = table["LatestStreamArn"]


def _create_buckets(stack: LocalStack) -> None:
    s3 = stack.client("s3")
    for bucket in (stack.names.bronze_bucket, stack.names.silver_bucket, stack.names.gold_bucket):
        s3.create_bucket(Bucket=bucket)


def _create_delivery_streams(stack: LocalStack) -> None:
    firehose = stack.client("firehose")
    bronze_arn = f"arn:aws:s3:::{stack.names.bronze_bucket}"
    role_arn = f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/firehose-local"
    for stream, prefix in (
        (stack.names.cdc_delivery_stream, lake.BRONZE_CDC_PREFIX),
        (stack.names.logs_delivery_stream, lake.BRONZE_LOGS_PREFIX),
    ):
        firehose.create_delivery_stream(
            DeliveryStreamName=stream,
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": role_arn,
                "BucketARN": bronze_arn,
                # The emulator appends YYYY/MM/DD/HH/ itself and ignores
                # !{timestamp:...} expressions, so only the static part is given.
                "Prefix": prefix,
                "ErrorOutputPrefix": lake.BRONZE_ERROR_PREFIX + prefix,
                "BufferingHints": BUFFERING,
                "CompressionFormat": "UNCOMPRESSED",
            },
        )


def _create_user_pool(stack: LocalStack) -> None:
    cognito = stack.client("cognito-idp")
    pool = cognito.create_user_pool(
        PoolName=stack.names.user_pool,
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 8,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
    )["UserPool"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName=stack.names.user_pool_client,
        GenerateSecret=False,
        ExplicitAuthFlows=[
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
    )["UserPoolClient"]
    stack.user_pool_id = pool["Id"]
    stack.user_pool_client_id = client["ClientId"]


def _create_glue_databases(stack: LocalStack) -> None:
    glue = stack.client("glue")
    glue.create_database(
        DatabaseInput={
            "Name": stack.names.glue_database,
            "Description": "Todo API with Insights: silver and gold tables",
        }
    )
    glue.create_database(
        DatabaseInput={
            "Name": stack.names.glue_pii_database,
            "Description": "Todo API with Insights: silver tables with personal data",
        }
    )


def _create_athena_workgroup(stack: LocalStack) -> None:
    stack.client("athena").create_work_group(
        Name=stack.names.athena_workgroup,
        Configuration={
            "ResultConfiguration": {
                "OutputLocation": (
                    f"s3://{stack.names.gold_bucket}/{lake.ATHENA_RESULTS_PREFIX}"
                )
            },
            "EnforceWorkGroupConfiguration": True,
        },
        Description="Todo API with Insights: analytics queries",
    )


def _create_cursor_signing_secret(stack: LocalStack) -> None:
    """The API's cursor-signing key, generated, in Secrets Manager as in AWS."""
    stack.client("secretsmanager").create_secret(
        Name=stack.names.cursor_signing_secret,
        SecretString=secrets.token_urlsafe(48),
        Description="Todo API with Insights: signs the API's pagination cursors",
    )


def _create_pii_hmac_secret(stack: LocalStack) -> None:
    """The key of the lake's PII pseudonyms, generated, in Secrets Manager as in AWS."""
    stack.client("secretsmanager").create_secret(
        Name=stack.names.pii_hmac_secret,
        SecretString=secrets.token_hex(32),
        Description="Todo API with Insights: keys the lake's pseudonyms of personal data",
    )


def provision(endpoint_url: str, stage: str = LOCAL_STAGE) -> LocalStack:
    """Create every resource of ``stage`` in the emulator at ``endpoint_url``."""
    stack = LocalStack(endpoint_url=endpoint_url, names=local_names(stage))
    _create_table(stack)
    _create_buckets(stack)
    _create_delivery_streams(stack)
    _create_user_pool(stack)
    _create_glue_databases(stack)
    _create_athena_workgroup(stack)
    _create_cursor_signing_secret(stack)
    _create_pii_hmac_secret(stack)
    return stack


def start(
    port: Optional[int] = None, log_path: Optional[str] = None
) -> Tuple[Emulator, LocalStack]:
    """Start the emulator and provision the local stage."""
    emulator = Emulator(port=port, log_path=log_path).start()
    try:
        return emulator, provision(emulator.endpoint_url)
    except Exception:
        emulator.stop()
        raise
