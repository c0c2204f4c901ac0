"""Real stream records from the emulator's DynamoDB Streams (boto3's shape:
bytes and datetimes) convert to change events that carry the stored items
exactly; bookkeeping writes of the same transactions are recognized and
skipped."""

from __future__ import annotations

from typing import Any, Dict, List

from todo_core import attributes, events, keys
from todo_core.models import Task
from todo_core.repository import TodoRepository, task_to_item


def latest_iterators(local_stack: Any) -> List[str]:
    """Shard iterators at the end of the stream: only later writes are read."""
    streams = local_stack.client("dynamodbstreams")
    description = streams.describe_stream(StreamArn=local_stack.stream_arn)["StreamDescription"]
    return [
        streams.get_shard_iterator(
            StreamArn=local_stack.stream_arn,
            ShardId=shard["ShardId"],
            ShardIteratorType="LATEST",
        )["ShardIterator"]
        for shard in description["Shards"]
    ]


def stream_records(local_stack: Any, iterators: List[str]) -> List[Dict[str, Any]]:
    streams = local_stack.client("dynamodbstreams")
    records: List[Dict[str, Any]] = []
    for start in iterators:
        iterator = start
        while iterator:
            response = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += response["Records"]
            if not response["Records"]:
                break
            iterator = response.get("NextShardIterator")
    return records


def test_task_lifecycle_reaches_the_stream_as_exact_change_events(
    local_stack: Any, repo: TodoRepository, user_id: str
) -> None:
    iterators = latest_iterators(local_stack)
    created = repo.create_task(Task.new(user_id, {"title": "t", "category": "work"}))
    updated = repo.update_task(user_id, created.task_id, {"status": "completed"})
    repo.delete_task(user_id, created.task_id)

    converted = []
    skipped = 0
    for record in stream_records(local_stack, iterators):
        try:
            event = events.change_event_from_stream_record(record)
        except events.NotADomainEntity:
            skipped += 1
            continue
        if event["user_id"] == user_id:
            converted.append(event)

    assert [e["event_name"] for e in converted] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = converted

    def plain(item: Any) -> Any:
        return events.domain_image(attributes.plain_image(item))

    assert insert["new_image"] == plain(task_to_item(created))
    assert insert["old_image"] is None
    assert modify["old_image"] == plain(task_to_item(created))
    assert modify["new_image"] == plain(task_to_item(updated))
    assert remove["old_image"] == plain(task_to_item(updated))
    assert remove["new_image"] is None
    assert skipped >= 3, "counter and activity writes are in the stream and were skipped"
    sequence = [int(e["sequence_number"]) for e in converted]
    assert sequence == sorted(sequence)
    for event in converted:
        assert event["keys"] == keys.task_key(user_id, created.task_id)
        model = events.parse_json_line(events.to_json_line(event))
        assert model.entity_type == "task"
        assert model.approximate_creation_time > 0
