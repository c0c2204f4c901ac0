"""The Lambda handler on Lambda event fixtures, with Firehose replaced by a fake."""

from __future__ import annotations

import copy
from typing import Any, Dict, List

import pytest
from botocore.exceptions import EndpointConnectionError
from conftest import FakeContext, FakeFirehose, client_error, emf_metrics, error_logs, load_event
from pydantic import ValidationError

from cdc_processor import handler
from todo_core.events import parse_json_line


def _sequence_numbers(event: Dict[str, Any]) -> List[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]


def _failures(response: Dict[str, Any]) -> List[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def _domain_sequence_numbers(event: Dict[str, Any]) -> List[str]:
    return [
        r["dynamodb"]["SequenceNumber"]
        for r in event["Records"]
        if r["dynamodb"]["Keys"]["PK"]["S"].startswith(("TASK#", "USER#"))
    ]


def test_task_lifecycle_reaches_firehose_in_order_and_bookkeeping_is_skipped(
    firehose: FakeFirehose, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    event = load_event("task_lifecycle.json")

    response = handler.lambda_handler(event, context)

    assert response == {"batchItemFailures": []}
    assert len(firehose.calls) == 1, "one batch, one PutRecordBatch"
    assert firehose.stream_names == ["todo-cdc-stream-test"]
    lines = [parse_json_line(d.decode("utf-8")) for d in firehose.accepted]
    assert [(e.entity_type, e.event_name) for e in lines] == [
        ("user", "INSERT"),
        ("task", "INSERT"),
        ("task", "MODIFY"),
        ("task", "MODIFY"),
        ("task", "REMOVE"),
    ]
    assert [e.sequence_number for e in lines] == _domain_sequence_numbers(event)
    assert all(d.endswith(b"\n") and d.count(b"\n") == 1 for d in firehose.accepted)
    insert, started, completed, removed = lines[1:]
    assert insert.user_id == "user-alice"
    assert insert.new_image is not None
    assert insert.new_image["title"] == "Write the runbook"
    assert insert.new_image["version"] == 1
    assert insert.old_image is None
    assert started.old_image["status"] == "pending"
    assert started.new_image["status"] == "in_progress"
    assert completed.new_image["status"] == "completed"
    assert completed.new_image["completed_at"]
    assert removed.new_image is None
    assert removed.old_image["version"] == 3
    assert lines[0].new_image["email"] == "alice@example.com"

    skipped = len(event["Records"]) - len(lines)
    assert emf_metrics(capsys.readouterr().out) == {
        "RecordsProcessed": 5,
        "RecordsSkipped": skipped,
        "RecordsRetried": 0,
        "RecordsFailed": 0,
    }


def test_bookkeeping_only_batch_needs_no_firehose_client(
    lambda_env: None, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    event = load_event("bookkeeping_only.json")
    assert event["Records"], "the fixture holds records"

    response = handler.lambda_handler(event, context)

    assert response == {"batchItemFailures": []}
    assert handler._firehose is None, "no client is created when nothing is delivered"
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["RecordsSkipped"] == len(event["Records"])
    assert metrics["RecordsProcessed"] == 0


def test_every_attribute_type_is_carried_exactly(
    firehose: FakeFirehose, context: FakeContext
) -> None:
    handler.lambda_handler(load_event("all_attribute_types.json"), context)

    (line,) = firehose.accepted
    text = line.decode("utf-8")
    # Numbers are written digit for digit.
    assert '"ratio":0.125' in text
    assert '"huge":1E+125' in text
    image = parse_json_line(text).new_image
    assert image is not None
    assert image["blob"] == "AAFiaW5hcnn/"
    assert image["blobs"] == ["YQ==", "Yg=="], "binary sets become sorted base64 lists"
    assert image["tags"] == ["blue", "red"]
    assert image["scores"] == [1, 2, 3]
    assert image["flag"] is True
    assert image["nothing"] is None
    assert image["nested"]["list"][0] == 1
    assert image["nested"]["list"][1] == "two"
    assert str(image["nested"]["list"][2]["three"]) == "3.5"


def test_poison_record_is_reported_and_the_rest_delivered(
    firehose: FakeFirehose,
    context: FakeContext,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = load_event("poison_record.json")
    poison = event["Records"][2]["dynamodb"]["SequenceNumber"]

    response = handler.lambda_handler(event, context)

    assert _failures(response) == [poison]
    delivered = [e["sequence_number"] for e in firehose.accepted_events()]
    assert delivered == [s for s in _sequence_numbers(event) if s != poison]
    errors = error_logs(caplog)
    assert len(errors) == 1
    assert "unconvertible stream record" in errors[0]["message"]
    assert "'Q'" in errors[0]["message"], "the log says what is wrong"
    assert errors[0]["sequence_number"] == poison
    assert emf_metrics(capsys.readouterr().out)["RecordsFailed"] == 1


def test_unknown_event_name_is_a_reported_failure(
    firehose: FakeFirehose, context: FakeContext
) -> None:
    event = load_event("poison_record.json")
    event["Records"][2]["dynamodb"]["NewImage"]["title"] = {"S": "fine"}
    event["Records"][0]["eventName"] = "UPSERT"

    response = handler.lambda_handler(event, context)

    assert _failures(response) == [event["Records"][0]["dynamodb"]["SequenceNumber"]]
    assert len(firehose.accepted) == 3


def test_oversize_record_is_reported_and_the_rest_delivered(
    firehose: FakeFirehose, context: FakeContext, caplog: pytest.LogCaptureFixture
) -> None:
    event = load_event("poison_record.json")
    event["Records"][2]["dynamodb"]["NewImage"]["title"] = {"S": "x" * (1000 * 1024)}
    big = event["Records"][2]["dynamodb"]["SequenceNumber"]

    response = handler.lambda_handler(event, context)

    assert _failures(response) == [big]
    assert len(firehose.accepted) == 3
    (error,) = error_logs(caplog)
    assert "exceeds Firehose's 1024000-byte record limit" in error["message"]
    assert error["sequence_number"] == big


def test_partial_put_failure_retries_exactly_the_failed_entries(
    firehose: FakeFirehose, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    event = load_event("task_lifecycle.json")
    firehose.plan = lambda n, datas: (
        ["ServiceUnavailableException" if i % 2 else None for i in range(len(datas))]
        if n == 0
        else None
    )

    response = handler.lambda_handler(event, context)

    assert response == {"batchItemFailures": []}
    first, second = firehose.calls
    assert second == [d for i, d in enumerate(first) if i % 2], (
        "only the rejected entries are re-sent"
    )
    assert sorted(firehose.accepted) == sorted(first), "each event accepted exactly once"
    assert emf_metrics(capsys.readouterr().out)["RecordsRetried"] == len(second)


def test_entries_that_never_get_in_are_reported_with_their_sequence_numbers(
    firehose: FakeFirehose,
    context: FakeContext,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = load_event("task_lifecycle.json")
    domain = _domain_sequence_numbers(event)
    stuck = {domain[1], domain[3]}

    def plan(n: int, datas: List[bytes]) -> List[Any]:
        return ["InternalFailure" if any(s.encode() in d for s in stuck) else None for d in datas]

    firehose.plan = plan

    response = handler.lambda_handler(event, context)

    assert sorted(_failures(response)) == sorted(stuck)
    assert len(firehose.calls) == 6, "bounded: FIREHOSE_MAX_ATTEMPTS (6) calls, then give up"
    assert all(len(call) == 2 for call in firehose.calls[1:])
    assert len(firehose.accepted) == len(domain) - 2
    assert emf_metrics(capsys.readouterr().out)["RecordsFailed"] == 2
    errors = error_logs(caplog)
    assert {e["sequence_number"] for e in errors} == stuck
    assert all("InternalFailure" in e["message"] for e in errors)


@pytest.mark.parametrize(
    "error",
    [
        client_error("ServiceUnavailableException", 503),
        client_error("ThrottlingException", 400),
        client_error("InternalFailure", 500),
        EndpointConnectionError(endpoint_url="https://firehose.us-east-1.amazonaws.com"),
    ],
    ids=["unavailable", "throttling", "internal", "connection"],
)
def test_throttling_and_service_errors_are_retried(
    firehose: FakeFirehose, context: FakeContext, error: Exception
) -> None:
    firehose.plan = lambda n, datas: error if n < 3 else None

    response = handler.lambda_handler(load_event("task_lifecycle.json"), context)

    assert response == {"batchItemFailures": []}
    assert len(firehose.calls) == 4
    assert len(firehose.accepted) == 5


def test_a_lasting_outage_reports_every_domain_record_and_does_not_raise(
    firehose: FakeFirehose, context: FakeContext
) -> None:
    event = load_event("task_lifecycle.json")
    firehose.plan = lambda n, datas: client_error("ServiceUnavailableException", 503)

    response = handler.lambda_handler(event, context)

    assert _failures(response) == _domain_sequence_numbers(event)
    assert len(firehose.calls) == 6


def test_configuration_errors_are_not_retried(firehose: FakeFirehose, context: FakeContext) -> None:
    event = load_event("task_lifecycle.json")
    firehose.plan = lambda n, datas: client_error("ResourceNotFoundException", 400)

    response = handler.lambda_handler(event, context)

    assert _failures(response) == _domain_sequence_numbers(event)
    assert len(firehose.calls) == 1


def test_retries_stop_before_the_invocation_deadline(
    firehose: FakeFirehose, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIREHOSE_DEADLINE_MARGIN_MS", "14000")
    handler.reset_execution_environment()
    monkeypatch.setattr(handler, "_firehose", firehose)
    firehose.plan = lambda n, datas: client_error("ServiceUnavailableException", 503)
    event = load_event("task_lifecycle.json")

    # 14.5 s left: one call fits (its worst case is 13 s), a retry does not.
    context = FakeContext(remaining_ms=14_500)
    firehose_plan = firehose.plan

    def plan(n, datas):
        context.remaining_ms -= 1_000
        return firehose_plan(n, datas)

    firehose.plan = plan
    response = handler.lambda_handler(event, context)

    assert len(firehose.calls) == 1, "no retry when the deadline margin is already reached"
    assert _failures(response) == _domain_sequence_numbers(event)


def _synthetic_batch(count: int, title_bytes: int = 10) -> Dict[str, Any]:
    template = load_event("task_lifecycle.json")["Records"]
    insert = next(
        r
        for r in template
        if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["PK"]["S"].startswith("TASK#")
    )
    records = []
    for i in range(count):
        record = copy.deepcopy(insert)
        record["eventID"] = f"event-{i}"
        record["dynamodb"]["SequenceNumber"] = str(2_000_000_000 + i)
        record["dynamodb"]["NewImage"]["title"] = {"S": "t" * title_bytes}
        records.append(record)
    return {"Records": records}


def test_a_1200_record_batch_takes_three_calls_in_order(
    firehose: FakeFirehose, context: FakeContext
) -> None:
    event = _synthetic_batch(1200)

    assert handler.lambda_handler(event, context) == {"batchItemFailures": []}

    assert [len(c) for c in firehose.calls] == [500, 500, 200]
    assert [e["sequence_number"] for e in firehose.accepted_events()] == _sequence_numbers(event)


def test_large_records_are_split_by_the_4_mib_call_limit(
    firehose: FakeFirehose, context: FakeContext
) -> None:
    event = _synthetic_batch(10, title_bytes=600 * 1024)

    assert handler.lambda_handler(event, context) == {"batchItemFailures": []}

    assert [len(c) for c in firehose.calls] == [6, 4]
    assert [e["sequence_number"] for e in firehose.accepted_events()] == _sequence_numbers(event)


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_missing_configuration_fails_the_invocation(
    lambda_env: None, monkeypatch: pytest.MonkeyPatch, context: FakeContext
) -> None:
    monkeypatch.delenv("FIREHOSE_STREAM_NAME")
    handler.reset_execution_environment()

    with pytest.raises(ValidationError, match="firehose_stream_name"):
        handler.lambda_handler(load_event("task_lifecycle.json"), context)
