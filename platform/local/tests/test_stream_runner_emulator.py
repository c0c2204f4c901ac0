"""The stream runner and the Firehose fault injector against the real emulator."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest
from botocore.exceptions import ClientError

from todo_local.faults import FirehoseFaults
from todo_local.stack import LocalStack
from todo_local.stream_runner import StreamRunner

pytestmark = pytest.mark.integration


def _bronze_lines(stack: LocalStack, marker: str) -> List[str]:
    s3 = stack.client("s3")
    lines: List[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.names.bronze_bucket):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=stack.names.bronze_bucket, Key=obj["Key"])["Body"].read()
            lines += [line for line in body.decode("utf-8").splitlines() if marker in line]
    return lines


def test_runner_delivers_the_emulators_stream_records_as_lambda_events(
    local_stack: LocalStack,
) -> None:
    ddb = local_stack.client("dynamodb")
    table = local_stack.names.table
    pk = f"TASK#runner-{uuid.uuid4().hex}"
    ddb.put_item(
        TableName=table,
        Item={"PK": {"S": pk}, "SK": {"S": "TASK#1"}, "blob": {"B": b"\x00\xff"}, "n": {"N": "1"}},
    )
    ddb.update_item(
        TableName=table,
        Key={"PK": {"S": pk}, "SK": {"S": "TASK#1"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "2"}},
    )
    ddb.delete_item(TableName=table, Key={"PK": {"S": pk}, "SK": {"S": "TASK#1"}})
    events: List[Dict[str, Any]] = []

    def handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
        events.append(event)
        return {"batchItemFailures": []}

    runner = StreamRunner.for_stack(local_stack, handler, batch_size=2)
    runner.drain(30)

    mine = [r for e in events for r in e["Records"] if r["dynamodb"]["Keys"]["PK"]["S"] == pk]
    assert [r["eventName"] for r in mine] == ["INSERT", "MODIFY", "REMOVE"]
    assert all(len(e["Records"]) <= 2 for e in events)
    insert, modify, remove = mine
    assert insert["eventSourceARN"] == local_stack.stream_arn
    assert insert["eventSource"] == "aws:dynamodb"
    assert insert["awsRegion"] == "us-east-1"
    assert insert["dynamodb"]["NewImage"]["blob"] == {"B": "AP8="}
    assert isinstance(insert["dynamodb"]["ApproximateCreationDateTime"], int)
    assert insert["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert modify["dynamodb"]["OldImage"]["n"] == {"N": "1"}
    assert modify["dynamodb"]["NewImage"]["n"] == {"N": "2"}
    assert "NewImage" not in remove["dynamodb"]
    assert remove["dynamodb"]["OldImage"]["n"] == {"N": "2"}
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in mine]
    assert sequence == sorted(sequence)
    assert runner.stats.records_delivered >= 3
    assert runner.on_failure == []


def test_fault_injection_stores_exactly_what_the_response_says_was_accepted(
    local_stack: LocalStack,
) -> None:
    marker = uuid.uuid4().hex
    client = local_stack.client("firehose")
    faults = FirehoseFaults(call_failure_rate=0.3, entry_failure_rate=0.4, seed=7).install(client)
    accepted: List[str] = []
    codes: List[str] = []
    throttled = 0
    for call in range(25):
        datas = [f"{marker} {call} {i}\n" for i in range(8)]
        try:
            response = client.put_record_batch(
                DeliveryStreamName=local_stack.names.cdc_delivery_stream,
                Records=[{"Data": d.encode()} for d in datas],
            )
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
            throttled += 1
            continue
        results = response["RequestResponses"]
        assert len(results) == len(datas)
        assert response["FailedPutCount"] == sum(1 for r in results if "ErrorCode" in r)
        accepted += [d.strip() for d, r in zip(datas, results) if "RecordId" in r]
    faults.uninstall()
    assert set(codes) == {"ServiceUnavailableException"}

    assert throttled == faults.counts.throttled_calls > 0
    assert faults.counts.rejected_entries > 0
    assert accepted
    assert sorted(_bronze_lines(local_stack, marker)) == sorted(accepted)

    # Uninstalled: the client is a plain client again.
    response = client.put_record_batch(
        DeliveryStreamName=local_stack.names.cdc_delivery_stream, Records=[{"Data": b"x\n"}] * 3
    )
    assert response["FailedPutCount"] == 0


def test_fault_rates_are_validated() -> None:
    with pytest.raises(ValueError, match="entry_failure_rate"):
        FirehoseFaults(entry_failure_rate=1.5)
