"""Requests are applied atomically, as in AWS: conditional writes under
concurrent clients, transactions that cancel or roll back completely
(``server.SerializedApp``, ``patches.patch_transaction_backup``)."""

from __future__ import annotations

import threading
import uuid
from typing import Any, Dict, Iterator, List

import pytest
from botocore.exceptions import ClientError

from todo_emulator.server import SerializedApp
from todo_local.stack import LocalStack

# --- atomic requests ------------------------------------------------------------------------


def _key(pk: str) -> Dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "ITEM"}}


def test_conditional_writes_are_atomic_under_concurrency(local_stack: LocalStack) -> None:
    """Many clients increment a versioned item with read + conditional put.
    With moto's threaded server two puts could both pass the same condition;
    served atomically, every acknowledged put is one version."""
    ddb = local_stack.client("dynamodb")
    table = local_stack.names.table
    pk = f"ATOMIC#{uuid.uuid4()}"
    ddb.put_item(TableName=table, Item={**_key(pk), "v": {"N": "0"}})
    acknowledged: List[int] = []
    codes: List[str] = []
    lock = threading.Lock()

    def worker() -> None:
        client = local_stack.client("dynamodb")
        for _ in range(12):
            current = int(client.get_item(TableName=table, Key=_key(pk), ConsistentRead=True)
                          ["Item"]["v"]["N"])
            try:
                client.put_item(
                    TableName=table,
                    Item={**_key(pk), "v": {"N": str(current + 1)}},
                    ConditionExpression="v = :v",
                    ExpressionAttributeValues={":v": {"N": str(current)}},
                )
            except ClientError as exc:
                codes.append(exc.response["Error"]["Code"])
                continue
            with lock:
                acknowledged.append(current + 1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    final = int(ddb.get_item(TableName=table, Key=_key(pk), ConsistentRead=True)["Item"]["v"]["N"])
    assert sorted(acknowledged) == list(range(1, final + 1)), "a version was acknowledged twice"
    assert set(codes) <= {"ConditionalCheckFailedException"}


def _stream_keys_after(local_stack: LocalStack, iterators: List[str]) -> List[str]:
    streams = local_stack.client("dynamodbstreams")
    keys: List[str] = []
    for iterator in iterators:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        keys += [r["dynamodb"]["Keys"]["PK"]["S"] for r in response["Records"]]
    return keys


def _latest(local_stack: LocalStack) -> List[str]:
    streams = local_stack.client("dynamodbstreams")
    shards = streams.describe_stream(StreamArn=local_stack.stream_arn)["StreamDescription"]
    return [
        streams.get_shard_iterator(
            StreamArn=local_stack.stream_arn, ShardId=s["ShardId"], ShardIteratorType="LATEST"
        )["ShardIterator"]
        for s in shards["Shards"]
    ]


def test_a_failed_condition_cancels_the_whole_transaction(local_stack: LocalStack) -> None:
    ddb = local_stack.client("dynamodb")
    table = local_stack.names.table
    a, b = f"TXA#{uuid.uuid4()}", f"TXB#{uuid.uuid4()}"
    ddb.put_item(TableName=table, Item={**_key(b), "v": {"N": "5"}})
    iterators = _latest(local_stack)
    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**_key(a), "v": {"N": "1"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": _key(b),
                        "UpdateExpression": "SET v = :new",
                        "ConditionExpression": "v = :old",
                        "ExpressionAttributeValues": {":old": {"N": "4"}, ":new": {"N": "6"}},
                    }
                },
            ]
        )
    error = caught.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]
    assert "Item" not in ddb.get_item(TableName=table, Key=_key(a))
    assert ddb.get_item(TableName=table, Key=_key(b))["Item"]["v"] == {"N": "5"}
    assert _stream_keys_after(local_stack, iterators) == [], "nothing was written, nothing streamed"


def test_a_transaction_failing_while_applying_is_rolled_back(local_stack: LocalStack) -> None:
    """The second write fails only when applied (ADD on a string); the first
    must not survive."""
    ddb = local_stack.client("dynamodb")
    table = local_stack.names.table
    a, b = f"TXA#{uuid.uuid4()}", f"TXB#{uuid.uuid4()}"
    ddb.put_item(TableName=table, Item={**_key(a), "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={**_key(b), "s": {"S": "text"}})
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**_key(a), "v": {"N": "2"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": _key(b),
                        "UpdateExpression": "ADD s :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
    assert ddb.get_item(TableName=table, Key=_key(a))["Item"]["v"] == {"N": "1"}
    assert ddb.get_item(TableName=table, Key=_key(b))["Item"]["s"] == {"S": "text"}


def test_transactions_succeed_and_write_every_item(local_stack: LocalStack) -> None:
    ddb = local_stack.client("dynamodb")
    table = local_stack.names.table
    pks = [f"TXOK#{uuid.uuid4()}" for _ in range(3)]
    ddb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": table,
                    "Item": {**_key(pk), "n": {"N": str(i)}},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for i, pk in enumerate(pks)
        ]
    )
    for i, pk in enumerate(pks):
        assert ddb.get_item(TableName=table, Key=_key(pk))["Item"]["n"] == {"N": str(i)}
    # The same key twice in one transaction is refused, as AWS does.
    with pytest.raises(ClientError, match="ValidationException"):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**_key(pks[0]), "n": {"N": "9"}}}},
                {"Delete": {"TableName": table, "Key": _key(pks[0])}},
            ]
        )


def test_serialized_app_runs_one_request_at_a_time() -> None:
    active = 0
    peak = 0
    guard = threading.Lock()
    closed: List[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            nonlocal active, peak
            with guard:
                active += 1
                peak = max(peak, active)
            threading.Event().wait(0.01)
            with guard:
                active -= 1
            yield b"ok"

        def close(self) -> None:
            closed.append(True)

    app = SerializedApp(lambda environ, start_response: Body())
    results: List[List[bytes]] = []
    threads = [
        threading.Thread(target=lambda: results.append(app({}, None))) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [[b"ok"]] * 6
    assert peak == 1
    assert len(closed) == 6
