"""The redrive's rules for any DLQ content and any crash pattern: after runs
until the queue is drained, every record of every range is in Firehose, each
change's copies byte-identical; a drained queue makes a run a no-op."""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, List, Set

import pytest
from conftest import FakeFirehose, client_error, load_event
from hypothesis import given, settings
from hypothesis import strategies as st

from cdc_processor.delivery import FirehoseDelivery, RetryPolicy
from cdc_processor.redrive import RangeUnavailable, read_range, redrive
from todo_core.events import parse_json_line

RECORDS = load_event("task_lifecycle.json")["Records"]
ARN = RECORDS[0]["eventSourceARN"]
SHARD = "shardId-1"


class FakeStreams:
    def __init__(self, records: List[Dict[str, Any]]) -> None:
        self.records = records

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType, SequenceNumber):
        assert ShardIteratorType == "AT_SEQUENCE_NUMBER"
        for index, record in enumerate(self.records):
            if int(record["dynamodb"]["SequenceNumber"]) >= int(SequenceNumber):
                return {"ShardIterator": str(index)}
        return {"ShardIterator": str(len(self.records))}

    def get_records(self, ShardIterator, Limit):
        start = int(ShardIterator)
        page = self.records[start : start + 3]  # small pages: ranges span several
        following = start + 3
        return {
            "Records": copy.deepcopy(page),
            "NextShardIterator": str(following) if following < len(self.records) else None,
        }


class FakeSqs:
    """Messages stay until deleted; ``crash_on`` deletes raise once each."""

    def __init__(self, bodies: List[str], crash_on: Set[int]) -> None:
        self.messages = {str(i): body for i, body in enumerate(bodies)}
        self.crash_on = set(crash_on)

    def receive_message(self, **kwargs):
        return {
            "Messages": [
                {"MessageId": k, "ReceiptHandle": k, "Body": b} for k, b in self.messages.items()
            ]
        }

    def delete_message(self, QueueUrl, ReceiptHandle):
        if int(ReceiptHandle) in self.crash_on:
            self.crash_on.discard(int(ReceiptHandle))
            raise RuntimeError("crash before delete")
        del self.messages[ReceiptHandle]


def message(first: int, last: int) -> str:
    info = {
        "shardId": SHARD,
        "startSequenceNumber": RECORDS[first]["dynamodb"]["SequenceNumber"],
        "endSequenceNumber": RECORDS[last]["dynamodb"]["SequenceNumber"],
        "streamArn": ARN,
    }
    return json.dumps({"DDBStreamBatchInfo": info})


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.sets(st.integers(1, len(RECORDS) - 1)),
    crash_on=st.sets(st.integers(0, len(RECORDS) - 1)),
    failing_calls=st.sets(st.integers(0, 30)),
)
def test_any_ranges_any_crashes_end_with_every_change_delivered_once(cuts, crash_on, failing_calls):
    bounds = [0, *sorted(cuts), len(RECORDS)]
    bodies = [message(a, b - 1) for a, b in zip(bounds, bounds[1:])]
    sqs = FakeSqs(bodies, crash_on)
    fake = FakeFirehose(
        lambda n, datas: (
            client_error("ServiceUnavailableException", 503) if n in failing_calls else None
        )
    )
    delivery = FirehoseDelivery(fake, "s", RetryPolicy(max_attempts=1), sleep=lambda s: None)
    streams = FakeStreams(copy.deepcopy(RECORDS))
    for _ in range(100):  # runs until the queue is drained (each run may crash)
        try:
            report = redrive(sqs, streams, delivery, "q", "us-east-1")
        except RuntimeError:
            continue
        if report.drained:
            break
    assert sqs.messages == {}
    copies: Dict[str, Set[bytes]] = {}
    for data in fake.accepted:
        copies.setdefault(parse_json_line(data.decode()).dedup_key, set()).add(data)
    reference = FakeFirehose()
    redrive(FakeSqs(bodies, set()), streams, FirehoseDelivery(reference, "s"), "q", "us-east-1")
    expected = {parse_json_line(d.decode()).dedup_key for d in reference.accepted}
    assert set(copies) == expected, "every change of every range, nothing else"
    assert all(len(c) == 1 for c in copies.values()), "duplicates are byte-identical"
    # Drained: another run does nothing.
    before = len(fake.accepted)
    again = redrive(sqs, streams, delivery, "q", "us-east-1")
    assert (again.messages, len(fake.accepted)) == (0, before)


def test_a_trimmed_range_is_unavailable():
    streams = FakeStreams(copy.deepcopy(RECORDS[5:]))  # the first five trimmed
    info = json.loads(message(0, 7))["DDBStreamBatchInfo"]
    with pytest.raises(RangeUnavailable, match="first record"):
        read_range(streams, info)
