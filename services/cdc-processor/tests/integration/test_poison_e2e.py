"""A record that can never be delivered (its change event exceeds Firehose's
1,000 KiB record limit) is reported, retried by the mapping, then discarded to
the on-failure list; every other change is delivered and the runner finishes.
"""

from __future__ import annotations

import pytest
from workload import bronze_lines, repository, stream_domain_changes

from todo_core import keys
from todo_core.attributes import to_item
from todo_core.events import parse_json_line
from todo_core.models import Task
from todo_local.stack import LocalStack
from todo_local.stream_runner import StreamRunner

pytestmark = pytest.mark.integration

#: Under DynamoDB's 400 KB item limit; as base64 in both images of a MODIFY
#: (about 2 x 540 KB) the change event no longer fits one Firehose record.
BLOB = b"\xfe" * (395 * 1024)


def test_an_oversize_change_is_discarded_after_retries_and_the_rest_delivered(
    fresh_stack: LocalStack,
) -> None:
    repo = repository(fresh_stack)
    ddb = fresh_stack.client("dynamodb")
    before = repo.create_task(Task.new("user-p", {"title": "before"}))
    big_key = keys.task_key("user-p", "big")
    ddb.put_item(
        TableName=fresh_stack.names.table,
        Item=to_item(
            {**big_key, "task_id": "big", "user_id": "user-p", "blob": BLOB, "version": 1}
        ),
    )
    ddb.update_item(
        TableName=fresh_stack.names.table,
        Key=to_item(big_key),
        UpdateExpression="SET version = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    after = repo.create_task(Task.new("user-p", {"title": "after"}))
    repo.update_task("user-p", after.task_id, {"status": "completed"})

    runner = StreamRunner.for_stack(fresh_stack, batch_size=100, max_retries=2, retry_backoff=0.01)
    runner.drain(60)

    changes = stream_domain_changes(fresh_stack)
    poison = next(
        key
        for key, record in changes.items()
        if record["eventName"] == "MODIFY"
        and record["dynamodb"]["Keys"]["SK"]["S"] == big_key["SK"]
    )
    delivered = {parse_json_line(line).dedup_key for line in bronze_lines(fresh_stack)}
    assert delivered == set(changes) - {poison}
    (dropped,) = runner.on_failure
    assert dropped.sequence_numbers[0] == poison.rsplit("|", 1)[1]
    assert dropped.attempts == 3
    titles = {
        parse_json_line(line).new_image.get("title")
        for line in bronze_lines(fresh_stack)
        if parse_json_line(line).new_image
    }
    assert {before.title, after.title} <= titles
