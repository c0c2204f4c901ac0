"""The emulator's fast JSON responses: same bodies as moto's own serializer."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from todo_local.emulator import Emulator, client_environment
from todo_local.moto_server import VERIFY_ENV, _NotPlain, _plain, fast_json_body


def test_plain_data_is_encoded_as_the_json_serializer_would() -> None:
    stamp = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc)
    assert _plain({"a": None, "b": [1, 2.5, "x", True], "t": stamp}) == {
        "b": [1, 2.5, "x", True],
        "t": 1767323045.678,
    }
    assert _plain({"t": stamp.replace(microsecond=0, tzinfo=None)}) == {"t": 1767323045}
    assert fast_json_body({"Item": {"pk": {"S": "k"}, "n": {"N": "1.50"}}}) == (
        '{"Item": {"pk": {"S": "k"}, "n": {"N": "1.50"}}}'
    )


@pytest.mark.parametrize("value", [{"B": "AAE="}, {"M": {"x": {"BS": ["AA=="]}}}, {"x": object()}])
def test_anything_else_goes_back_to_moto(value: Any) -> None:
    with pytest.raises(_NotPlain):
        _plain(value)
    assert fast_json_body(value) is None


@pytest.fixture(scope="module")
def verifying_emulator() -> Iterator[Dict[str, Any]]:
    """An emulator that encodes each fast response both ways and fails on a difference."""
    mp = pytest.MonkeyPatch()
    mp.setenv(VERIFY_ENV, "1")
    try:
        with Emulator() as emulator:
            for name, value in client_environment(emulator.endpoint_url).items():
                mp.setenv(name, value)
            yield {"ddb": boto3.client("dynamodb"), "streams": boto3.client("dynamodbstreams")}
    finally:
        mp.undo()


def test_hot_operations_answer_exactly_like_moto(verifying_emulator: Dict[str, Any]) -> None:
    ddb, streams = verifying_emulator["ddb"], verifying_emulator["streams"]
    table = ddb.create_table(
        TableName="fast-json",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    rich = {
        "n": {"N": "1.50"},
        "m": {"M": {"l": {"L": [{"S": "x"}, {"NULL": True}, {"BOOL": False}]}}},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bin": {"B": b"\x00\x01"},
    }
    for i in range(3):
        ddb.put_item(
            TableName="fast-json", Item={"pk": {"S": "p"}, "sk": {"S": f"s{i}"}, **rich}
        )
    key = {"pk": {"S": "p"}, "sk": {"S": "s0"}}
    assert ddb.get_item(TableName="fast-json", Key=key)["Item"]["bin"] == {"B": b"\x00\x01"}
    ddb.put_item(TableName="fast-json", Item={"pk": {"S": "q"}, "sk": {"S": "1"}, "n": {"N": "2"}})
    assert ddb.get_item(TableName="fast-json", Key={"pk": {"S": "q"}, "sk": {"S": "1"}})["Item"]
    missing = {"pk": {"S": "no"}, "sk": {"S": "1"}}
    assert "Item" not in ddb.get_item(TableName="fast-json", Key=missing)
    ddb.update_item(
        TableName="fast-json",
        Key={"pk": {"S": "q"}, "sk": {"S": "1"}},
        UpdateExpression="SET n = n + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    page = ddb.query(
        TableName="fast-json",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "q"}},
        Limit=1,
    )
    assert page["Items"][0]["n"] == {"N": "3"}
    assert page["Count"] == 1
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "fast-json", "Item": {"pk": {"S": "t"}, "sk": {"S": "1"}}}},
            {
                "Update": {
                    "TableName": "fast-json",
                    "Key": {"pk": {"S": "q"}, "sk": {"S": "1"}},
                    "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )
    with pytest.raises(ClientError) as failed:  # errors are still moto's own
        ddb.put_item(
            TableName="fast-json",
            Item={"pk": {"S": "t"}, "sk": {"S": "1"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    ddb.delete_item(TableName="fast-json", Key={"pk": {"S": "t"}, "sk": {"S": "1"}})

    arn = table["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["eventName"] for r in records][-3:] == ["INSERT", "MODIFY", "REMOVE"]
    plain = [r for r in records if "bin" not in r["dynamodb"].get("NewImage", {})]
    assert plain
    assert isinstance(plain[0]["dynamodb"]["ApproximateCreationDateTime"], dt.datetime)
