"""A shard split: the parent's records, then the child's, whose sequence
numbers may be lower than the parent's last. The emulator keeps one shard per
stream, so the table's real records are replayed to the handler as two shards."""

from __future__ import annotations

import copy
from typing import Any, Dict, List

from workload import run_workload

from kpi_aggregator import handler
from todo_local.stream_runner import FakeLambdaContext, lambda_event


def stream_records(table: Any) -> List[Dict[str, Any]]:
    streams = table.stack.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=table.stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=table.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: List[Dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        records += page["Records"]
        if not page["Records"]:
            break
        iterator = page.get("NextShardIterator")
    return records


def as_shard(records: List[Dict[str, Any]], shard_id: str, first: int, arn: str) -> Dict[str, Any]:
    renumbered = copy.deepcopy(records)
    for n, record in enumerate(renumbered):
        record["dynamodb"]["SequenceNumber"] = str(first + 10 * n)
    event = lambda_event(renumbered, arn, "us-east-1")
    event["shardId"] = shard_id
    return event


def test_a_split_shard_counts_parent_and_child_exactly_once(table: Any) -> None:
    repo = table.repository()
    expected = run_workload(repo, "split")
    records = stream_records(table)
    half = len(records) // 2
    parent = as_shard(records[:half], "shardId-parent", 9 * 10**21, table.stream_arn)
    # The child's numbers are lower than the parent's: only per-shard checkpoints
    # keep it from being mistaken for a re-delivery.
    child = as_shard(records[half:], "shardId-child", 10**21, table.stream_arn)
    context = FakeLambdaContext("todo-kpi-aggregator-local", "us-east-1", 60)
    for event in (parent, child, parent, child):  # and both re-delivered
        handler.lambda_handler(copy.deepcopy(event), context)
    assert repo.read_kpis() == expected
