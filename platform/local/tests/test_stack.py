"""Provisioning creates every local-stage resource from the shared specifications."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from todo_core import keys, lake
from todo_core.naming import OUTPUT_NAMES
from todo_local.emulator import REGION
from todo_local.stack import LocalStack

pytestmark = pytest.mark.integration


def test_table_matches_the_table_spec(local_stack: LocalStack) -> None:
    ddb = local_stack.client("dynamodb")
    table = ddb.describe_table(TableName=local_stack.names.table)["Table"]
    spec = keys.TABLE_SPEC.create_table_request(local_stack.names.table)
    assert table["KeySchema"] == spec["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=lambda d: d["AttributeName"]) == sorted(
        spec["AttributeDefinitions"], key=lambda d: d["AttributeName"]
    )
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert table["LatestStreamArn"] == local_stack.stream_arn
    assert table["TableArn"] == local_stack.table_arn
    indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {i.name for i in keys.GLOBAL_INDEXES}
    for index in keys.GLOBAL_INDEXES:
        assert indexes[index.name]["KeySchema"] == [
            {"AttributeName": index.pk, "KeyType": "HASH"},
            {"AttributeName": index.sk, "KeyType": "RANGE"},
        ]
        assert indexes[index.name]["Projection"] == {"ProjectionType": "ALL"}
    ttl = ddb.describe_time_to_live(TableName=local_stack.names.table)
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }


def test_the_three_lake_buckets_exist(local_stack: LocalStack) -> None:
    names = {b["Name"] for b in local_stack.client("s3").list_buckets()["Buckets"]}
    n = local_stack.names
    assert {n.bronze_bucket, n.silver_bucket, n.gold_bucket} <= names


@pytest.mark.parametrize(
    ("attribute", "prefix"),
    [
        ("cdc_delivery_stream", lake.BRONZE_CDC_PREFIX),
        ("logs_delivery_stream", lake.BRONZE_LOGS_PREFIX),
    ],
)
def test_delivery_streams_write_to_bronze(
    local_stack: LocalStack, attribute: str, prefix: str
) -> None:
    firehose = local_stack.client("firehose")
    name = getattr(local_stack.names, attribute)
    stream = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert stream["DeliveryStreamStatus"] == "ACTIVE"
    (destination,) = stream["Destinations"]
    s3 = destination["ExtendedS3DestinationDescription"]
    assert s3["BucketARN"] == f"arn:aws:s3:::{local_stack.names.bronze_bucket}"
    assert s3["Prefix"] == prefix
    assert s3["ErrorOutputPrefix"].startswith(lake.BRONZE_ERROR_PREFIX)


def test_a_record_sent_to_the_cdc_stream_lands_in_bronze(local_stack: LocalStack) -> None:
    marker = "provisioning-check-7f3a"
    local_stack.client("firehose").put_record_batch(
        DeliveryStreamName=local_stack.names.cdc_delivery_stream,
        Records=[{"Data": f'{{"marker": "{marker}"}}\n'.encode()}],
    )
    s3 = local_stack.client("s3")
    listing = s3.list_objects_v2(
        Bucket=local_stack.names.bronze_bucket, Prefix=lake.BRONZE_CDC_PREFIX
    )
    bodies = [
        s3.get_object(Bucket=local_stack.names.bronze_bucket, Key=o["Key"])["Body"].read()
        for o in listing.get("Contents", [])
    ]
    assert any(marker.encode() in body for body in bodies)


def test_user_pool_supports_the_runbooks_admin_login(local_stack: LocalStack) -> None:
    cognito = local_stack.client("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=local_stack.user_pool_id)["UserPool"]
    assert pool["Name"] == local_stack.names.user_pool
    client = cognito.describe_user_pool_client(
        UserPoolId=local_stack.user_pool_id, ClientId=local_stack.user_pool_client_id
    )["UserPoolClient"]
    assert "ALLOW_ADMIN_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert "ClientSecret" not in client

    # The runbook's user creation and ADMIN_NO_SRP_AUTH login, as written there.
    username = "provisioning-check@example.com"
    cognito.admin_create_user(
        UserPoolId=local_stack.user_pool_id,
        Username=username,
        UserAttributes=[
            {"Name": "email", "Value": username},
            {"Name": "given_name", "Value": "Test"},
            {"Name": "family_name", "Value": "User"},
        ],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=local_stack.user_pool_id,
        Username=username,
        Password="TempPassword123!",
        Permanent=True,
    )
    auth = cognito.admin_initiate_auth(
        UserPoolId=local_stack.user_pool_id,
        ClientId=local_stack.user_pool_client_id,
        AuthFlow="ADMIN_NO_SRP_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": "TempPassword123!"},
    )
    assert auth["AuthenticationResult"]["IdToken"].count(".") == 2

    with urllib.request.urlopen(local_stack.jwks_url, timeout=10) as response:  # noqa: S310
        jwks = json.load(response)
    assert jwks["keys"]
    assert local_stack.issuer.endswith(local_stack.user_pool_id)


def test_glue_database_and_athena_workgroup_exist(local_stack: LocalStack) -> None:
    database = local_stack.client("glue").get_database(Name=local_stack.names.glue_database)
    assert database["Database"]["Name"] == local_stack.names.glue_database
    workgroup = local_stack.client("athena").get_work_group(
        WorkGroup=local_stack.names.athena_workgroup
    )["WorkGroup"]
    location = workgroup["Configuration"]["ResultConfiguration"]["OutputLocation"]
    assert location == f"s3://{local_stack.names.gold_bucket}/{lake.ATHENA_RESULTS_PREFIX}"


def test_outputs_use_the_runbook_names(local_stack: LocalStack, tmp_path: Path) -> None:
    outputs = local_stack.outputs()
    assert outputs["AwsEndpointUrl"] == local_stack.endpoint_url
    assert outputs["Region"] == REGION
    assert outputs["TableName"] == local_stack.names.table
    assert outputs["FirehoseStreamName"] == local_stack.names.cdc_delivery_stream
    assert outputs["GlueDatabaseName"] == local_stack.names.glue_database
    # Every runbook output the local stage has is there, under its runbook name;
    # the API endpoint comes with the API, and the dashboard and alert topic
    # exist only in AWS.
    local_only_missing = {"ApiEndpoint", "DashboardUrl", "AlertTopicArn"}
    assert set(OUTPUT_NAMES) - local_only_missing <= set(outputs)
    assert all(isinstance(v, str) and v for v in outputs.values())

    path = tmp_path / "nested" / "outputs.json"
    local_stack.write_outputs(str(path))
    assert json.loads(path.read_text()) == outputs
