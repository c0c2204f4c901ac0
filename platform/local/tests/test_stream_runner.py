"""The local event source mapping against an in-memory DynamoDB Streams API.

The fake serves DescribeStream / GetShardIterator / GetRecords in boto3's
shapes (datetimes, bytes), with shard lineage and closed shards, so the
mapping's rules can be checked one by one and for any failure pattern.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from todo_local.stream_runner import (
    DrainTimeout,
    StreamRunner,
    lambda_event,
)

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2025-01-27T00:00:00.000"


class ExpiredIterator(Exception):
    response = {"Error": {"Code": "ExpiredIteratorException", "Message": "expired"}}


class FakeStreams:
    """Shards hold boto3-shaped records; closed shards end their iterator chain."""

    def __init__(self) -> None:
        self.shards: Dict[str, Dict[str, Any]] = {}
        self.order: List[str] = []
        self.expire_next = 0
        self.calls: List[str] = []
        self._lock = threading.Lock()
        self._seq = 1000

    def add_shard(self, shard_id: str, parent: Optional[str] = None) -> None:
        self.shards[shard_id] = {"parent": parent, "records": [], "closed": False}
        self.order.append(shard_id)

    def close(self, shard_id: str) -> None:
        self.shards[shard_id]["closed"] = True

    def put(self, shard_id: str, pk: str = "TASK#u", name: str = "INSERT", **image: Any) -> str:
        with self._lock:
            self._seq += 1
            seq = str(self._seq).zfill(21)
            keys = {"PK": {"S": pk}, "SK": {"S": f"TASK#{self._seq}"}}
            record = {
                "eventID": f"e{self._seq}",
                "eventName": name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": dt.datetime(
                        2025, 1, 27, 10, 30, 45, 900000, tzinfo=dt.timezone.utc
                    ),
                    "Keys": keys,
                    "NewImage": {**keys, **image},
                    "SequenceNumber": seq,
                    "SizeBytes": 42,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
            self.shards[shard_id]["records"].append(record)
            return seq

    def describe_stream(
        self, StreamArn: str, ExclusiveStartShardId: Optional[str] = None
    ) -> Dict[str, Any]:
        self.calls.append("describe_stream")
        start = self.order.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId else 0
        page = self.order[start : start + 1]  # one shard per page: pagination is exercised
        shards = [
            {
                "ShardId": s,
                **({"ParentShardId": self.shards[s]["parent"]} if self.shards[s]["parent"] else {}),
            }
            for s in page
        ]
        description: Dict[str, Any] = {"StreamArn": StreamArn, "Shards": shards}
        if start + 1 < len(self.order):
            description["LastEvaluatedShardId"] = page[-1]
        return {"StreamDescription": description}

    def get_shard_iterator(
        self,
        StreamArn: str,
        ShardId: str,
        ShardIteratorType: str,
        SequenceNumber: Optional[str] = None,
    ) -> Dict[str, Any]:
        self.calls.append(f"get_shard_iterator:{ShardIteratorType}")
        records = self.shards[ShardId]["records"]
        if ShardIteratorType == "TRIM_HORIZON":
            position = 0
        elif ShardIteratorType == "LATEST":
            position = len(records)
        elif ShardIteratorType == "AFTER_SEQUENCE_NUMBER":
            position = [r["dynamodb"]["SequenceNumber"] for r in records].index(SequenceNumber) + 1
        else:
            raise AssertionError(ShardIteratorType)
        return {"ShardIterator": f"{ShardId}|{position}"}

    def get_records(self, ShardIterator: str, Limit: int) -> Dict[str, Any]:
        self.calls.append("get_records")
        if self.expire_next:
            self.expire_next -= 1
            raise ExpiredIterator()
        shard_id, position_text = ShardIterator.split("|")
        position = int(position_text)
        shard = self.shards[shard_id]
        with self._lock:
            records = shard["records"][position : position + Limit]
            end = position + len(records)
            response: Dict[str, Any] = {"Records": copy.deepcopy(records)}
            if not (shard["closed"] and end >= len(shard["records"])):
                response["NextShardIterator"] = f"{shard_id}|{end}"
        return response


class Recorder:
    """A handler that records each invocation; ``decide(batch_seqs, call)`` scripts the reply."""

    def __init__(self, decide: Optional[Callable[[List[str], int], Any]] = None) -> None:
        self.decide = decide or (lambda seqs, n: {"batchItemFailures": []})
        self.invocations: List[List[str]] = []
        self.events: List[Dict[str, Any]] = []
        self.contexts: List[Any] = []

    def __call__(self, event: Dict[str, Any], context: Any) -> Any:
        seqs = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        self.invocations.append(seqs)
        self.events.append(event)
        self.contexts.append(context)
        reply = self.decide(seqs, len(self.invocations) - 1)
        if isinstance(reply, BaseException):
            raise reply
        return reply


def fail_at(seq: str) -> Dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": seq}]}


def runner_for(streams: FakeStreams, handler: Any, **options: Any) -> StreamRunner:
    options.setdefault("retry_backoff", 0.0)
    options.setdefault("poll_interval", 0.01)
    return StreamRunner(streams, ARN, handler, **options)


@pytest.fixture
def streams() -> FakeStreams:
    fake = FakeStreams()
    fake.add_shard("shard-0")
    return fake


# --- the event payload ------------------------------------------------------------------


def test_lambda_event_has_lambdas_exact_shape_and_json_types() -> None:
    record = {
        "eventID": "abc",
        "eventName": "REMOVE",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
        "dynamodb": {
            "ApproximateCreationDateTime": dt.datetime(
                2025, 1, 27, 10, 30, 45, 999999, tzinfo=dt.timezone.utc
            ),
            "Keys": {"PK": {"S": "TASK#u"}, "SK": {"S": "TASK#1"}},
            "OldImage": {
                "PK": {"S": "TASK#u"},
                "blob": {"B": b"\x00\xff"},
                "blobs": {"BS": [b"a", b"b"]},
                "nested": {"M": {"inner": {"L": [{"B": b"z"}, {"N": "1.50"}]}}},
            },
            "SequenceNumber": "000000000000000000123",
            "SizeBytes": 99,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }

    event = lambda_event([record], ARN, "us-east-1")

    (out,) = event["Records"]
    assert list(out) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
        "userIdentity",
    ]
    assert out["eventSourceARN"] == ARN
    assert out["eventSource"] == "aws:dynamodb"
    ddb = out["dynamodb"]
    assert ddb["ApproximateCreationDateTime"] == 1737973845, "epoch seconds, rounded down"
    assert isinstance(ddb["ApproximateCreationDateTime"], int)
    assert ddb["OldImage"]["blob"] == {"B": "AP8="}
    assert ddb["OldImage"]["blobs"] == {"BS": ["YQ==", "Yg=="]}
    assert ddb["OldImage"]["nested"]["M"]["inner"]["L"] == [{"B": "eg=="}, {"N": "1.50"}]
    assert "NewImage" not in ddb
    assert ddb["SequenceNumber"] == "000000000000000000123"
    assert ddb["SizeBytes"] == 99
    assert out["userIdentity"]["principalId"] == "dynamodb.amazonaws.com"
    assert json.loads(json.dumps(event)) == event


def test_context_looks_like_lambdas(streams: FakeStreams) -> None:
    streams.put("shard-0")
    handler = Recorder()

    runner_for(
        streams, handler, function_name="todo-cdc-processor-local", timeout_seconds=30
    ).drain(5)

    (context,) = handler.contexts
    assert context.function_name == "todo-cdc-processor-local"
    assert context.invoked_function_arn.endswith(":function:todo-cdc-processor-local")
    assert 0 < context.get_remaining_time_in_millis() <= 30_000
    assert context.aws_request_id
    assert context.memory_limit_in_mb


# --- ordering, batching, lineage -------------------------------------------------------------


def test_records_are_delivered_in_order_in_batches_of_at_most_batch_size(
    streams: FakeStreams,
) -> None:
    written = [streams.put("shard-0") for _ in range(23)]
    handler = Recorder()
    runner = runner_for(streams, handler, batch_size=10)

    runner.drain(5)

    assert [len(b) for b in handler.invocations] == [10, 10, 3]
    assert [s for batch in handler.invocations for s in batch] == written
    stats = runner.stats
    assert (stats.batches, stats.records_delivered, stats.retries, stats.failures) == (3, 23, 0, 0)


def test_a_child_shard_is_read_only_after_its_parent_is_finished() -> None:
    streams = FakeStreams()
    streams.add_shard("child-a", parent="parent")  # listed first on purpose
    streams.add_shard("parent")
    streams.add_shard("child-b", parent="parent")
    child_a = [streams.put("child-a") for _ in range(3)]
    parent = [streams.put("parent") for _ in range(5)]
    child_b = [streams.put("child-b") for _ in range(2)]
    streams.close("parent")
    handler = Recorder()

    runner_for(streams, handler, batch_size=2).drain(5)

    delivered = [s for batch in handler.invocations for s in batch]
    assert sorted(delivered) == sorted(child_a + parent + child_b)
    last_parent = max(delivered.index(s) for s in parent)
    assert all(delivered.index(s) > last_parent for s in child_a + child_b)
    for shard in (child_a, parent, child_b):
        assert [s for s in delivered if s in shard] == shard, "per-shard order"


def test_a_child_whose_parent_has_been_trimmed_is_read_at_once() -> None:
    streams = FakeStreams()
    streams.add_shard("child", parent="gone")
    written = [streams.put("child") for _ in range(3)]
    handler = Recorder()

    runner_for(streams, handler).drain(5)

    assert handler.invocations == [written]


def test_latest_skips_what_is_already_in_the_stream(streams: FakeStreams) -> None:
    streams.put("shard-0")
    handler = Recorder()
    runner = runner_for(streams, handler, starting_position="LATEST")
    runner.drain(5)
    later = streams.put("shard-0")

    runner.drain(5)

    assert handler.invocations == [[later]]


def test_an_expired_iterator_resumes_after_the_last_record_read(streams: FakeStreams) -> None:
    first = [streams.put("shard-0") for _ in range(3)]
    handler = Recorder()
    runner = runner_for(streams, handler)
    runner.drain(5)
    second = [streams.put("shard-0") for _ in range(2)]
    streams.expire_next = 1

    runner.drain(5)

    assert [s for b in handler.invocations for s in b] == first + second
    assert "get_shard_iterator:AFTER_SEQUENCE_NUMBER" in streams.calls


# --- partial batch responses -------------------------------------------------------------------


def test_batch_item_failure_redelivers_from_the_lowest_failed_sequence_number(
    streams: FakeStreams,
) -> None:
    s = [streams.put("shard-0") for _ in range(6)]

    def decide(seqs: List[str], n: int) -> Any:
        if n == 0:  # two failures reported out of order: the lowest one wins
            return {"batchItemFailures": [{"itemIdentifier": s[4]}, {"itemIdentifier": s[2]}]}
        return {"batchItemFailures": []}

    handler = Recorder(decide)
    runner = runner_for(streams, handler, batch_size=10, bisect_on_error=False)

    runner.drain(5)

    assert handler.invocations == [s, s[2:]]
    stats = runner.stats
    assert (stats.records_delivered, stats.partial_failures, stats.retries) == (6, 1, 1)


def test_with_bisection_a_partial_failure_retries_only_the_rest_of_that_batch(
    streams: FakeStreams,
) -> None:
    s = [streams.put("shard-0") for _ in range(8)]
    handler = Recorder(lambda seqs, n: fail_at(s[1]) if n == 0 else None)
    runner = runner_for(streams, handler, batch_size=4, bisect_on_error=True)

    runner.drain(5)

    assert handler.invocations == [s[0:4], s[1:4], s[4:8]]


@pytest.mark.parametrize(
    "reply",
    [
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"id": "x"}]},
        {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]},
        {"batchItemFailures": "nope"},
        "a string",
    ],
)
def test_an_invalid_failure_report_fails_the_whole_batch(streams: FakeStreams, reply: Any) -> None:
    s = [streams.put("shard-0") for _ in range(3)]
    handler = Recorder(lambda seqs, n: reply if n == 0 else {})

    runner_for(streams, handler, bisect_on_error=False).drain(5)

    assert handler.invocations == [s, s]


@pytest.mark.parametrize(
    "reply", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}]
)
def test_empty_responses_are_success(streams: FakeStreams, reply: Any) -> None:
    s = [streams.put("shard-0") for _ in range(3)]
    handler = Recorder(lambda seqs, n: reply)

    runner_for(streams, handler).drain(5)

    assert handler.invocations == [s]


# --- function errors, bisection, retries, on-failure ---------------------------------------


def test_function_errors_bisect_until_the_poison_record_is_alone_then_it_is_discarded(
    streams: FakeStreams,
) -> None:
    s = [streams.put("shard-0") for _ in range(8)]
    poison = s[5]
    handler = Recorder(lambda seqs, n: RuntimeError("boom") if poison in seqs else None)
    runner = runner_for(streams, handler, batch_size=8, max_retries=2, bisect_on_error=True)

    runner.drain(5)

    succeeded = [b for b in handler.invocations if poison not in b]
    assert sorted(x for b in succeeded for x in b) == sorted(set(s) - {poison}), (
        "each good record exactly once"
    )
    assert handler.invocations.count([poison]) == 3, "the first try and max_retries=2 retries"
    (dropped,) = runner.on_failure
    assert dropped.sequence_numbers == [poison]
    assert dropped.attempts == 3
    info = dropped.message["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison
    assert info["batchSize"] == 1
    assert info["streamArn"] == ARN
    assert info["shardId"] == "shard-0"
    assert dropped.message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert dropped.message["responseContext"]["functionError"] == "Unhandled"
    stats = runner.stats
    assert stats.records_dropped == 1
    assert stats.records_delivered == 7
    assert stats.bisections == 3
    assert stats.function_errors == 3 + 3


def test_without_bisection_a_failing_batch_is_retried_then_discarded_whole(
    streams: FakeStreams,
) -> None:
    s = [streams.put("shard-0") for _ in range(5)]
    handler = Recorder(lambda seqs, n: ValueError("bad") if s[1] in seqs else None)
    runner = runner_for(streams, handler, batch_size=3, max_retries=1, bisect_on_error=False)

    runner.drain(5)

    assert handler.invocations == [s[0:3], s[0:3], s[3:5]]
    (dropped,) = runner.on_failure
    assert dropped.sequence_numbers == s[0:3]
    assert "ValueError: bad" in dropped.reason


def test_a_persistent_item_failure_is_discarded_with_the_rest_of_its_batch_after_max_retries(
    streams: FakeStreams,
) -> None:
    s = [streams.put("shard-0") for _ in range(4)]
    handler = Recorder(lambda seqs, n: fail_at(s[2]) if s[2] in seqs else None)
    runner = runner_for(streams, handler, batch_size=4, max_retries=3)

    runner.drain(5)

    assert handler.invocations == [s, s[2:], s[2:], s[2:]]
    (dropped,) = runner.on_failure
    assert dropped.sequence_numbers == s[2:]
    assert "functionError" not in dropped.message["responseContext"]
    assert runner.stats.records_delivered == 2
    assert runner.stats.records_dropped == 2


def test_max_retries_zero_discards_on_first_failure(streams: FakeStreams) -> None:
    s = [streams.put("shard-0") for _ in range(2)]
    handler = Recorder(lambda seqs, n: fail_at(s[0]) if n == 0 else None)
    runner = runner_for(streams, handler, max_retries=0)

    runner.drain(5)

    assert handler.invocations == [s]
    assert runner.on_failure[0].sequence_numbers == s


def test_an_invocation_longer_than_the_timeout_is_a_function_error(streams: FakeStreams) -> None:
    s = streams.put("shard-0")

    def slow(seqs: List[str], n: int) -> Any:
        if n == 0:
            time.sleep(0.5)
        return None

    handler = Recorder(slow)
    # Wide margins both ways: the fast retry must fit the timeout on a busy machine.
    runner = runner_for(streams, handler, timeout_seconds=0.1)

    runner.drain(5)

    assert handler.invocations == [[s], [s]]
    assert runner.stats.function_errors == 1


def test_retries_back_off_exponentially(streams: FakeStreams) -> None:
    s = streams.put("shard-0")
    times: List[float] = []

    def decide(seqs: List[str], n: int) -> Any:
        times.append(time.monotonic())
        return fail_at(s) if n < 3 else None

    runner_for(streams, Recorder(decide), retry_backoff=0.02, max_retries=5).drain(5)

    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 3
    assert gaps[0] >= 0.02
    assert gaps[1] >= 0.04
    assert gaps[2] >= 0.08


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    count=st.integers(min_value=1, max_value=30),
    batch_size=st.integers(min_value=1, max_value=8),
    max_retries=st.integers(min_value=0, max_value=3),
    bisect=st.booleans(),
)
def test_any_failure_pattern_each_record_is_acknowledged_or_discarded_once_in_order(
    data: st.DataObject, count: int, batch_size: int, max_retries: int, bisect: bool
) -> None:
    streams = FakeStreams()
    streams.add_shard("shard-0")
    written = [streams.put("shard-0") for _ in range(count)]
    acknowledged: List[str] = []

    def decide(seqs: List[str], n: int) -> Any:
        kind = data.draw(st.sampled_from(["ok", "ok", "partial", "raise"]), label="reply")
        if kind == "raise":
            return RuntimeError("random")
        if kind == "partial":
            at = data.draw(st.integers(min_value=0, max_value=len(seqs) - 1), label="failed index")
            acknowledged.extend(seqs[:at])
            return fail_at(seqs[at])
        acknowledged.extend(seqs)
        return None

    runner = runner_for(
        streams,
        Recorder(decide),
        batch_size=batch_size,
        max_retries=max_retries,
        bisect_on_error=bisect,
    )
    runner.drain(10)

    dropped = [seq for batch in runner.on_failure for seq in batch.sequence_numbers]
    assert len(set(acknowledged)) == len(acknowledged), "nothing acknowledged twice"
    assert not set(acknowledged) & set(dropped)
    assert sorted(acknowledged + dropped) == written, "every record accounted for exactly once"
    assert acknowledged == [q for q in written if q in set(acknowledged)], (
        "acknowledged in stream order"
    )
    stats = runner.stats
    assert stats.records_delivered == len(acknowledged)
    assert stats.records_dropped == len(dropped)


# --- running in the background, drain(), lifecycle ------------------------------------------------


def test_drain_in_the_background_waits_for_records_written_before_the_call(
    streams: FakeStreams,
) -> None:
    handler = Recorder()
    with runner_for(streams, handler, batch_size=5) as runner:
        assert runner.running
        first = [streams.put("shard-0") for _ in range(12)]
        runner.drain(5)
        assert [s for b in handler.invocations for s in b] == first
        second = [streams.put("shard-0") for _ in range(3)]
        runner.drain(5)
        assert [s for b in handler.invocations for s in b] == first + second
    assert not runner.running


def test_drain_times_out_while_the_handler_cannot_keep_up(streams: FakeStreams) -> None:
    release = threading.Event()
    streams.put("shard-0")
    handler = Recorder(lambda seqs, n: release.wait(5) and None)
    with runner_for(streams, handler) as runner:
        with pytest.raises(DrainTimeout, match="did not catch up"):
            runner.drain(0.2)
        release.set()
        runner.drain(5)


def test_a_bug_in_the_runner_surfaces_in_drain(
    streams: FakeStreams, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> Any:
        raise KeyError("bug")

    monkeypatch.setattr(streams, "describe_stream", broken)
    with runner_for(streams, Recorder()) as runner, pytest.raises(RuntimeError, match="stopped"):
        runner.drain(5)


def test_aws_errors_are_retried_not_fatal(
    streams: FakeStreams, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = streams.put("shard-0")
    real = streams.describe_stream
    failures = iter([True, True])

    class Throttled(Exception):
        response = {"Error": {"Code": "LimitExceededException"}}

    def flaky(**kwargs: Any) -> Any:
        if next(failures, False):
            raise Throttled()
        return real(**kwargs)

    monkeypatch.setattr(streams, "describe_stream", flaky)
    handler = Recorder()

    runner_for(streams, handler).drain(5)

    assert handler.invocations == [[written]]


def test_the_function_environment_applies_only_while_running(streams: FakeStreams) -> None:
    seen: Dict[str, Optional[str]] = {}

    def handler(event: Dict[str, Any], context: Any) -> None:
        seen["value"] = os.environ.get("TODO_RUNNER_TEST_VAR")

    streams.put("shard-0")
    assert "TODO_RUNNER_TEST_VAR" not in os.environ
    with runner_for(streams, handler, environment={"TODO_RUNNER_TEST_VAR": "on"}) as runner:
        runner.drain(5)
    assert seen == {"value": "on"}
    assert "TODO_RUNNER_TEST_VAR" not in os.environ


def test_a_handler_named_by_path_is_imported_and_its_environment_reset(
    streams: FakeStreams, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fake_cdc_handler.py").write_text(
        "resets = []\n"
        "calls = []\n"
        "def reset_execution_environment():\n"
        "    resets.append(1)\n"
        "def lambda_handler(event, context):\n"
        "    calls.append(len(event['Records']))\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    streams.put("shard-0")

    runner_for(streams, "fake_cdc_handler.lambda_handler").drain(5)

    import fake_cdc_handler  # type: ignore[import-not-found]

    assert fake_cdc_handler.resets == [1]
    assert fake_cdc_handler.calls == [1]


def test_invalid_settings_are_rejected(streams: FakeStreams) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        StreamRunner(streams, ARN, Recorder(), batch_size=0)
    with pytest.raises(ValueError, match="max_retries"):
        StreamRunner(streams, ARN, Recorder(), max_retries=-1)
    with pytest.raises(ValueError, match="starting_position"):
        StreamRunner(streams, ARN, Recorder(), starting_position="AT_TIMESTAMP")
    with pytest.raises(ValueError, match="maximum_batching_window"):
        StreamRunner(streams, ARN, Recorder(), maximum_batching_window=301)


# --- the batching window ------------------------------------------------------------------


def test_a_batching_window_waits_for_a_full_batch(streams: FakeStreams) -> None:
    handler = Recorder()
    with runner_for(streams, handler, batch_size=10, maximum_batching_window=60) as runner:
        first = [streams.put("shard-0") for _ in range(3)]
        time.sleep(0.3)  # many polls: the window holds the partial batch back
        assert handler.invocations == []
        rest = [streams.put("shard-0") for _ in range(12)]
        deadline = time.monotonic() + 5
        while not handler.invocations and time.monotonic() < deadline:
            time.sleep(0.01)
        assert handler.invocations[:1] == [(first + rest)[:10]]  # full: invoked at once
        runner.drain(5)  # drain does not wait for the window
        assert [s for b in handler.invocations for s in b] == first + rest
    assert [len(b) for b in handler.invocations] == [10, 5]


def test_a_partial_batch_goes_when_the_window_ends(streams: FakeStreams) -> None:
    handler = Recorder()
    with runner_for(streams, handler, batch_size=10, maximum_batching_window=0.2):
        written = [streams.put("shard-0") for _ in range(4)]
        deadline = time.monotonic() + 5
        while not handler.invocations and time.monotonic() < deadline:
            time.sleep(0.01)
        assert handler.invocations == [written]


def test_without_a_window_records_go_at_once(streams: FakeStreams) -> None:
    handler = Recorder()
    written = [streams.put("shard-0") for _ in range(2)]
    with runner_for(streams, handler, batch_size=10):
        deadline = time.monotonic() + 5
        while not handler.invocations and time.monotonic() < deadline:
            time.sleep(0.01)
        assert handler.invocations == [written]
