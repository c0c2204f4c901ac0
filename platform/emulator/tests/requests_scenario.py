"""Helpers shared by the emulator's tests: clients, a table, the product's requests."""

from __future__ import annotations

import http.client
from typing import Any, Callable, Dict, List, Optional, Tuple

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

TABLE = "emulator-tests"
CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}


def client(port: int, service: str = "dynamodb") -> Any:
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}),
        **CREDENTIALS,
    )


def _outcome(call: Callable[[], Dict[str, Any]]) -> Tuple[str, Any]:
    try:
        response = call()
    except ClientError as exc:
        error = dict(exc.response)
        error.pop("ResponseMetadata", None)
        return "error", error
    response.pop("ResponseMetadata", None)
    return "ok", response


def create_table(ddb: Any) -> None:
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "G1", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [{"AttributeName": "G1", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )

def key(pk: str, sk: str = "A") -> Dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


IDEMPOTENCY_CONDITION = (
    "attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND "
    "attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)"
)


def _idempotency_put(ddb: Any, pk: str, now: int) -> Dict[str, Any]:
    return ddb.put_item(  # type: ignore[no-any-return]
        TableName=TABLE,
        Item={
            **key(pk),
            "expires_at": {"N": str(now + 100)},
            "in_flight_ms": {"N": str((now + 30) * 1000)},
            "status": {"S": "INPROGRESS"},
        },
        ConditionExpression=IDEMPOTENCY_CONDITION,
        ExpressionAttributeNames={
            "#id": "PK", "#expiry": "expires_at", "#in_progress_expiry": "in_flight_ms",
            "#status": "status",
        },
        ExpressionAttributeValues={
            ":now": {"N": str(now)},
            ":now_in_millis": {"N": str(now * 1000)},
            ":inprogress": {"S": "INPROGRESS"},
        },
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def _task_put(pk: str, version: int, expected: Optional[int]) -> Dict[str, Any]:
    put: Dict[str, Any] = {
        "TableName": TABLE,
        "Item": {**key(pk), "G1": {"S": f"G#{pk}"}, "version": {"N": str(version)},
                 "title": {"S": f"v{version}"}, "done": {"BOOL": version % 2 == 0},
                 "note": {"NULL": True}, "empty": {"S": ""}},
    }
    if expected is None:
        put["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        put["ConditionExpression"] = "#v = :v"
        put["ExpressionAttributeNames"] = {"#v": "version"}
        put["ExpressionAttributeValues"] = {":v": {"N": str(expected)}}
    return {"Put": put}


def _counter(pk: str, delta: str) -> Dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": key(pk),
            "UpdateExpression": "ADD #c0 :d0, #c1 :d1",
            "ExpressionAttributeNames": {"#c0": "tasks", "#c1": "completed"},
            "ExpressionAttributeValues": {":d0": {"N": delta}, ":d1": {"N": "1"}},
        }
    }


def scenario(ddb: Any) -> List[Tuple[str, Any]]:
    """The product's request shapes, plus the failures and errors around them."""
    out: List[Tuple[str, Any]] = []

    def run(call: Callable[[], Dict[str, Any]]) -> None:
        out.append(_outcome(call))

    transact = ddb.transact_write_items
    # Idempotency records: new, repeated while in flight, expired, then completed.
    run(lambda: _idempotency_put(ddb, "IDEM#1", 1000))
    run(lambda: _idempotency_put(ddb, "IDEM#1", 1010))
    run(lambda: _idempotency_put(ddb, "IDEM#1", 2000))
    run(lambda: ddb.update_item(
        TableName=TABLE, Key=key("IDEM#1"),
        UpdateExpression="SET #r = :r, #e = :e, #s = :s, #h = :h",
        ExpressionAttributeNames={"#r": "response", "#e": "expires_at", "#s": "status",
                                  "#h": "hash"},
        ExpressionAttributeValues={":r": {"S": '{"status": 201}'}, ":e": {"N": "90000"},
                                   ":s": {"S": "COMPLETED"}, ":h": {"S": "abc"}},
    ))
    run(lambda: _idempotency_put(ddb, "IDEM#1", 2001))
    # Counter shards: the first ADD creates the item (moto's path), later ones add.
    run(lambda: transact(TransactItems=[_task_put("TASK#1", 1, None), _counter("STATS#0", "1")]))
    run(lambda: transact(TransactItems=[_task_put("TASK#2", 1, None), _counter("STATS#0", "1")]))
    run(lambda: transact(TransactItems=[_counter("STATS#0", "-1.5"), _task_put("TASK#1", 2, 1)]))
    # A stale version cancels the whole transaction (the counter must not move).
    run(lambda: transact(TransactItems=[_task_put("TASK#1", 2, 1), _counter("STATS#0", "5")]))
    run(lambda: transact(TransactItems=[_counter("STATS#0", "5"), _task_put("TASK#9", 1, 3)]))
    run(lambda: transact(TransactItems=[
        {"Put": {**_task_put("TASK#2", 2, 7)["Put"],
                 "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
    ]))
    # A create of an existing id, and the same item twice in one transaction.
    run(lambda: transact(TransactItems=[_task_put("TASK#2", 1, None)]))
    twice = [_task_put("TASK#3", 1, None), _task_put("TASK#3", 1, None)]
    run(lambda: transact(TransactItems=twice))
    # Conditional updates (the user profile's "seen" marker).
    seen = {
        "TableName": TABLE, "Key": key("USER#1"),
        "UpdateExpression": "SET #last_seen_at = :now, #email = :email",
        "ConditionExpression": "attribute_exists(PK) AND #last_seen_at < :stale",
        "ExpressionAttributeNames": {"#last_seen_at": "last_seen_at", "#email": "email"},
        "ExpressionAttributeValues": {":now": {"S": "2026-01-02"}, ":stale": {"S": "2026-01-01"},
                                      ":email": {"S": "a@example.com"}},
    }
    run(lambda: ddb.update_item(**seen))  # no such item
    run(lambda: ddb.put_item(TableName=TABLE, Item={**key("USER#1"),
                                                    "last_seen_at": {"S": "2025-12-31"}}))
    run(lambda: ddb.update_item(**seen))
    run(lambda: ddb.update_item(**seen))  # now fresh: the condition fails
    # Validation errors moto reports: an unused placeholder, a reserved word, a key update.
    run(lambda: ddb.update_item(**{**seen, "ExpressionAttributeValues": {
        **seen["ExpressionAttributeValues"], ":unused": {"S": "x"}}}))
    run(lambda: ddb.put_item(TableName=TABLE, Item=key("X"),
                             ConditionExpression="attribute_not_exists(name)"))
    run(lambda: ddb.update_item(TableName=TABLE, Key=key("USER#1"),
                                UpdateExpression="SET #g = :g",
                                ExpressionAttributeNames={"#g": "G1"},
                                ExpressionAttributeValues={":g": {"S": ""}}))
    run(lambda: ddb.put_item(TableName="no-such-table", Item=key("X")))
    run(lambda: ddb.update_item(TableName=TABLE, Key=key("TASK#1"),
                                UpdateExpression="ADD #t :t",
                                ExpressionAttributeNames={"#t": "title"},
                                ExpressionAttributeValues={":t": {"N": "1"}}))
    # Reads.
    run(lambda: ddb.get_item(TableName=TABLE, Key=key("TASK#1"), ConsistentRead=True))
    run(lambda: ddb.get_item(TableName=TABLE, Key=key("TASK#404")))
    run(lambda: ddb.get_item(TableName=TABLE, Key=key("STATS#0")))
    run(lambda: ddb.get_item(TableName=TABLE, Key={"PK": {"S": "TASK#1"}}))
    run(lambda: ddb.get_item(TableName=TABLE, Key=key("TASK#1"), ProjectionExpression="title"))
    return out


def state(ddb: Any, port: int) -> Dict[str, Any]:
    items = sorted(
        ddb.scan(TableName=TABLE)["Items"], key=lambda i: (i["PK"]["S"], i["SK"]["S"])
    )
    streams = client(port, "dynamodbstreams")
    arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    first = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = []
    for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
        # moto's SizeBytes measures a JSON text that includes the timestamp;
        # every stream has its own numbers (patches.patch_stream_identity):
        # compare positions in the stream.
        ddb_part = {k: v for k, v in record["dynamodb"].items()
                    if k not in ("ApproximateCreationDateTime", "SizeBytes")}
        ddb_part["SequenceNumber"] = int(ddb_part["SequenceNumber"]) - first
        records.append((record["eventName"], ddb_part))
    return {"items": items, "stream": records}


def reset(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/moto-api/reset")
    assert conn.getresponse().status == 200
    conn.close()




def run_scenario(port: int) -> Tuple[List[Tuple[str, Any]], Dict[str, Any]]:
    """Reset the emulator, run :func:`scenario`; its outcomes and the final state."""
    reset(port)
    ddb = client(port)
    create_table(ddb)
    outcomes = scenario(ddb)
    return outcomes, state(ddb, port)
