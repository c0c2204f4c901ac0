"""Every stream is a stream of its own (``patches.patch_stream_identity``).

moto starts every stream with the same shard id and the same sequence
numbers. A table restored from a backup, once its stream is enabled, then
emits records the old stream's readers already checkpointed past. Here each
stream has its own shard id, and each later stream's numbers lie below every
earlier one's without overlapping: the case the lake's ordering must survive.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest
from moto.dynamodb.models.table import StreamShard
from requests_scenario import TABLE, client, create_table, key, reset

RESTORED = f"{TABLE}-restored"
STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def _records(port: int, table: str) -> Tuple[str, List[int]]:
    ddb, streams = client(port), client(port, "dynamodbstreams")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    page = streams.get_records(ShardIterator=iterator, Limit=1000)
    return shard["ShardId"], [int(r["dynamodb"]["SequenceNumber"]) for r in page["Records"]]


def _old_and_restored(port: int) -> Dict[str, Tuple[str, List[int]]]:
    """Writes to a table, a backup restored into a new table with its stream
    enabled, and the same writes to both."""
    reset(port)
    ddb = client(port)
    create_table(ddb)
    for n in range(3):
        ddb.put_item(TableName=TABLE, Item={**key(f"P{n}"), "n": {"N": str(n)}})
    backup = ddb.create_backup(TableName=TABLE, BackupName="drill")["BackupDetails"]["BackupArn"]
    ddb.restore_table_from_backup(TargetTableName=RESTORED, BackupArn=backup)
    ddb.update_table(TableName=RESTORED, StreamSpecification=STREAM)
    for table in (TABLE, RESTORED):
        ddb.put_item(TableName=table, Item={**key("P0"), "n": {"N": "10"}})
    return {table: _records(port, table) for table in (TABLE, RESTORED)}


def test_a_restored_tables_stream_has_its_own_shard_and_lower_numbers(
    server: Dict[str, Any],
) -> None:
    streams = _old_and_restored(server["port"])
    (old_shard, old), (new_shard, new) = streams[TABLE], streams[RESTORED]
    assert old_shard != new_shard
    assert old_shard.startswith("shardId-")
    assert new_shard.startswith("shardId-")
    assert len(old) == 4
    assert len(new) == 1
    assert max(new) < min(old)  # newer change, smaller number
    assert old == sorted(set(old))


def test_moto_alone_gives_both_streams_one_shard_and_the_same_numbers(
    server: Dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the correction corrects (if moto fixes it, drop the patch)."""
    monkeypatch.setattr(StreamShard, "__init__", StreamShard.__init__.__wrapped__)
    streams = _old_and_restored(server["port"])
    (old_shard, old), (new_shard, new) = streams[TABLE], streams[RESTORED]
    assert old_shard == new_shard
    assert new[0] == old[0]
