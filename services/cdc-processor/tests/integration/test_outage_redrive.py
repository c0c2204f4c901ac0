"""A Firehose outage longer than every retry budget: the mapping gives up and
parks the ranges in the DLQ; after the outage ``todo-cdc-redrive`` reads them
back from the stream and bronze holds every change exactly once (duplicates
only as byte-identical re-deliveries of one dedup key), also when a redrive
dies before deleting its message and when it runs twice."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any, Dict, List

import pytest
from workload import bronze_lines, run_workload, stream_domain_changes

from cdc_processor import handler
from cdc_processor.delivery import FirehoseDelivery
from cdc_processor.redrive import REDRIVE_POLICY, redrive
from todo_core.events import parse_json_line
from todo_local.faults import FirehoseFaults
from todo_local.stack import LocalStack
from todo_local.stream_runner import StreamRunner

pytestmark = pytest.mark.integration


def _bronze_by_key(stack: LocalStack) -> Dict[str, List[str]]:
    by_key: Dict[str, List[str]] = defaultdict(list)
    for line in bronze_lines(stack):
        by_key[parse_json_line(line).dedup_key].append(line)
    return by_key


def _assert_exactly_once(stack: LocalStack) -> Dict[str, List[str]]:
    by_key = _bronze_by_key(stack)
    assert set(by_key) == set(stream_domain_changes(stack)), "every change, nothing else"
    for key, copies in by_key.items():
        assert len(set(copies)) == 1, f"{key}: duplicates must be byte-identical re-deliveries"
    return by_key


class DeleteFails:
    """An SQS client whose DeleteMessage dies: a redrive crashing after delivery."""

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def delete_message(self, **kwargs: Any) -> None:
        raise RuntimeError("crash before the DLQ message is deleted")


def _queue_depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_after_an_outage_longer_than_the_retry_budget_redrive_completes_bronze(
    fresh_stack: LocalStack,
) -> None:
    sqs = fresh_stack.client("sqs")
    dlq = sqs.create_queue(QueueName="todo-cdc-dlq-test")["QueueUrl"]
    with StreamRunner.for_stack(
        fresh_stack,
        batch_size=10,
        max_retries=2,
        retry_backoff=0.005,
        max_retry_backoff=0.01,
        poll_interval=0.05,
        environment={"FIREHOSE_MAX_ATTEMPTS": "2", "FIREHOSE_BACKOFF_BASE_MS": "1"},
    ) as runner:
        outage = FirehoseFaults(call_failure_rate=1.0, seed=1).install(handler.firehose_client())
        try:
            expected = run_workload(fresh_stack, users=2, tasks_per_user=3, seed=21)
            runner.drain(90)
        finally:
            outage.uninstall()  # the outage ends
        parked = list(runner.on_failure)
    assert parked, "the mapping gave up on the batches (the outage outlasted its retries)"
    assert bronze_lines(fresh_stack) == [], "nothing reached bronze during the outage"
    for batch in parked:  # the on-failure destination's messages, into the DLQ
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(batch.message))

    streams = fresh_stack.client("dynamodbstreams")
    firehose = fresh_stack.client("firehose")
    delivery = FirehoseDelivery(firehose, fresh_stack.names.cdc_delivery_stream, REDRIVE_POLICY)
    region = firehose.meta.region_name

    # A redrive that dies after delivering, before deleting: the message stays.
    with pytest.raises(RuntimeError, match="crash before"):
        redrive(DeleteFails(sqs), streams, delivery, dlq, region, visibility_seconds=1)
    assert _queue_depth(sqs, dlq) == len(parked)
    assert bronze_lines(fresh_stack), "the first range was delivered"

    # The next run (once the message is visible again) delivers everything.
    time.sleep(1.5)
    report = redrive(sqs, streams, delivery, dlq, region)
    assert report.drained
    assert report.redriven == len(parked)
    assert _queue_depth(sqs, dlq) == 0
    by_key = _assert_exactly_once(fresh_stack)
    assert len(by_key) == expected.total

    # Safe to run twice: nothing left to do, bronze unchanged.
    before = sorted(bronze_lines(fresh_stack))
    again = redrive(sqs, streams, delivery, dlq, region)
    assert (again.messages, again.redriven) == (0, 0)
    assert sorted(bronze_lines(fresh_stack)) == before


def test_a_range_the_stream_no_longer_holds_is_reported_and_kept(fresh_stack: LocalStack) -> None:
    sqs = fresh_stack.client("sqs")
    dlq = sqs.create_queue(QueueName="todo-cdc-dlq-lost")["QueueUrl"]
    stream_arn = fresh_stack.client("dynamodb").describe_table(TableName=fresh_stack.names.table)[
        "Table"
    ]["LatestStreamArn"]
    message = {
        "DDBStreamBatchInfo": {
            "shardId": "shardId-00000000000000000000-00000000",
            "startSequenceNumber": "100",
            "endSequenceNumber": "200",
            "streamArn": stream_arn,
            "batchSize": 1,
        }
    }
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(message))
    firehose = fresh_stack.client("firehose")
    delivery = FirehoseDelivery(firehose, fresh_stack.names.cdc_delivery_stream, REDRIVE_POLICY)
    report = redrive(
        sqs, fresh_stack.client("dynamodbstreams"), delivery, dlq, firehose.meta.region_name
    )
    assert not report.drained
    assert "LOST" in report.kept[0]
    assert bronze_lines(fresh_stack) == []
