"""Restoring the table into a new one (``todo_local.restore``): a backup rolled
forward with the old stream is the old table, and the new table's stream
carries only what is written to it afterwards."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List, Optional

import pytest
from botocore.exceptions import ClientError

from todo_core import keys
from todo_local import restore
from todo_local.stack import LocalStack

pytestmark = pytest.mark.integration


def _item(pk: str, n: int) -> Dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "PROFILE"}, "n": {"N": str(n)}}


def _scan(ddb: Any, table: str) -> List[Dict[str, Any]]:
    return sorted(ddb.scan(TableName=table)["Items"], key=lambda i: i["PK"]["S"])


def _stream(stack: LocalStack, stream_arn: str) -> List[Any]:
    streams = stack.client("dynamodbstreams")
    out = []
    for shard in restore._shards_in_lineage_order(streams, stream_arn):
        out.extend(restore._records(streams, stream_arn, shard))
    return out


@pytest.fixture
def old(local_stack: LocalStack) -> LocalStack:
    """A table of its own (the session's table holds other tests' writes)."""
    name = f"restore-{uuid.uuid4().hex[:8]}"
    ddb = local_stack.client("dynamodb")
    table = ddb.create_table(**keys.TABLE_SPEC.create_table_request(name))["TableDescription"]
    return restore.stack_on_table(local_stack, name, table["TableArn"], table["LatestStreamArn"])


def test_a_backup_rolled_forward_with_the_old_stream_is_the_old_table(old: LocalStack) -> None:
    ddb = old.client("dynamodb")
    table = old.names.table
    for n in range(4):
        ddb.put_item(TableName=table, Item=_item(f"USER#{n}", 0))
    backup = restore.back_up(ddb, table, "test")
    # After the backup: an update, a delete, a create, and a create then delete.
    ddb.put_item(TableName=table, Item=_item("USER#0", 1))
    ddb.delete_item(TableName=table, Key={"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}})
    ddb.put_item(TableName=table, Item=_item("USER#9", 1))
    ddb.put_item(TableName=table, Item=_item("USER#8", 1))
    ddb.delete_item(TableName=table, Key={"PK": {"S": "USER#8"}, "SK": {"S": "PROFILE"}})

    target = f"{table}-restored"
    arn = restore.restore_from_backup(ddb, backup, target)
    assert arn.endswith(f"table/{target}")
    assert [i["PK"]["S"] for i in _scan(ddb, target)] == [f"USER#{n}" for n in range(4)]
    assert "LatestStreamArn" not in ddb.describe_table(TableName=target)["Table"]

    replayed = restore.roll_forward(ddb, old.client("dynamodbstreams"), old.stream_arn, target)
    assert (replayed.records, replayed.puts, replayed.deletes) == (9, 7, 2)
    assert _scan(ddb, target) == _scan(ddb, table)

    stream_arn = restore.enable_stream(ddb, target)
    assert stream_arn != old.stream_arn
    ttl = ddb.describe_time_to_live(TableName=target)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == keys.TABLE_SPEC.ttl_attribute
    assert _stream(old, stream_arn) == []  # nothing replayed is emitted again
    ddb.put_item(TableName=target, Item=_item("USER#0", 2))
    (record,) = _stream(old, stream_arn)
    assert record["eventName"] == "MODIFY"
    assert record["dynamodb"]["NewImage"]["n"] == {"N": "2"}


def test_the_stage_on_the_new_table_keeps_every_other_name(local_stack: LocalStack) -> None:
    moved = restore.stack_on_table(local_stack, "todo-app-data-local-restored", "arn:t", "arn:s")
    assert moved.names.table == "todo-app-data-local-restored"
    assert moved.outputs()["TableName"] == "todo-app-data-local-restored"
    assert (moved.table_arn, moved.stream_arn) == ("arn:t", "arn:s")
    assert moved.names.bronze_bucket == local_stack.names.bronze_bucket
    assert moved.names.stage == local_stack.names.stage
    assert moved.user_pool_id == local_stack.user_pool_id
    assert local_stack.names.table == "todo-app-data-local"  # the original is untouched


def test_a_restore_from_an_unknown_backup_fails(local_stack: LocalStack) -> None:
    missing = local_stack.table_arn + "/backup/01700000000000-deadbeef"
    with pytest.raises(ClientError, match="BackupNotFound"):
        restore.restore_from_backup(
            local_stack.client("dynamodb"), missing, f"never-{uuid.uuid4().hex[:6]}"
        )


def test_waiting_gives_up_with_a_clear_error() -> None:
    with pytest.raises(restore.RestoreFailed, match="table x not ready"):
        restore._wait("table x", lambda: False, timeout=0.2)


class _Streams:
    """A stream described over two pages, children listed before their parents."""

    def __init__(self) -> None:
        self.pages = {
            None: {
                "Shards": [{"ShardId": "c1", "ParentShardId": "p"}],
                "LastEvaluatedShardId": "c1",
            },
            "c1": {"Shards": [{"ShardId": "p"}, {"ShardId": "c2", "ParentShardId": "gone"}]},
        }

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: Optional[str] = None) -> Any:
        return {"StreamDescription": self.pages[ExclusiveStartShardId]}


def test_shards_are_replayed_parent_first_across_pages() -> None:
    order = restore._shards_in_lineage_order(_Streams(), "arn")
    assert sorted(order) == ["c1", "c2", "p"]
    assert order.index("p") < order.index("c1")
