"""Shared fixtures: Lambda event fixtures, a scriptable Firehose stand-in, and
a handler wired to it with fast (zero) backoff.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

import pytest
from botocore.exceptions import ClientError

EVENTS = Path(__file__).resolve().parent / "events"

#: What a scripted call returns: None = accept all; an exception = raise it;
#: a list = one ErrorCode (or None for accepted) per entry.
Outcome = Optional[Any]


def load_event(name: str) -> Dict[str, Any]:
    with open(EVENTS / name, encoding="utf-8") as handle:
        event: Dict[str, Any] = json.load(handle)
    return copy.deepcopy(event)


def client_error(code: str, status: int = 400, operation: str = "PutRecordBatch") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


class FakeFirehose:
    """Records every PutRecordBatch; ``plan(call_number, datas)`` scripts failures."""

    def __init__(self, plan: Optional[Callable[[int, List[bytes]], Outcome]] = None) -> None:
        self.plan = plan or (lambda n, datas: None)
        self.calls: List[List[bytes]] = []
        self.accepted: List[bytes] = []
        self.stream_names: List[str] = []

    def put_record_batch(
        self, DeliveryStreamName: str, Records: Sequence[Dict[str, bytes]]
    ) -> Dict[str, Any]:
        datas = [r["Data"] for r in Records]
        assert 1 <= len(datas) <= 500, "PutRecordBatch takes 1 to 500 records"
        assert sum(len(d) for d in datas) <= 4 * 1024 * 1024, "PutRecordBatch takes at most 4 MiB"
        assert all(len(d) <= 1000 * 1024 for d in datas), "a Firehose record is at most 1,000 KiB"
        number = len(self.calls)
        self.calls.append(datas)
        self.stream_names.append(DeliveryStreamName)
        outcome = self.plan(number, datas)
        if isinstance(outcome, BaseException):
            raise outcome
        codes = outcome if outcome is not None else [None] * len(datas)
        responses = []
        for data, code in zip(datas, codes):
            if code is None:
                self.accepted.append(data)
                responses.append({"RecordId": f"r{len(self.accepted)}"})
            else:
                responses.append({"ErrorCode": code, "ErrorMessage": f"{code} (scripted)"})
        return {
            "FailedPutCount": sum(1 for c in codes if c is not None),
            "Encrypted": False,
            "RequestResponses": responses,
        }

    def accepted_events(self) -> List[Dict[str, Any]]:
        from todo_core.attributes import loads

        return [loads(d.decode("utf-8")) for d in self.accepted]


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The environment Pulumi gives the function, with instant backoff."""
    from cdc_processor import handler
    from cdc_processor.settings import get_settings

    for name, value in {
        "STAGE": "test",
        "FIREHOSE_STREAM_NAME": "todo-cdc-stream-test",
        "POWERTOOLS_SERVICE_NAME": "todo-cdc-processor",
        "POWERTOOLS_METRICS_NAMESPACE": "TodoApi/CustomMetrics",
        "LOG_LEVEL": "INFO",
        "FIREHOSE_BACKOFF_BASE_MS": "0",
        # The fake context's remaining time stands still: bound attempts by count.
        "FIREHOSE_MAX_ATTEMPTS": "6",
    }.items():
        monkeypatch.setenv(name, value)
    handler.reset_execution_environment()
    yield
    handler.reset_execution_environment()
    get_settings.cache_clear()


@pytest.fixture
def firehose(lambda_env: None, monkeypatch: pytest.MonkeyPatch) -> FakeFirehose:
    """The handler's Firehose client, replaced by a scriptable fake."""
    from cdc_processor import handler

    fake = FakeFirehose()
    monkeypatch.setattr(handler, "_firehose", fake)
    return fake


class FakeContext:
    function_name = "todo-cdc-processor-test"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:todo-cdc-processor-test"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/todo-cdc-processor-test"
    log_stream_name = "test"

    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


def emf_metrics(stdout: str) -> Dict[str, float]:
    """Sum of each metric over the EMF documents Powertools printed."""
    totals: Dict[str, float] = {}
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                values = document[metric["Name"]]
                values = values if isinstance(values, list) else [values]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(values)
    return totals


def error_logs(caplog: pytest.LogCaptureFixture) -> List[Dict[str, Any]]:
    """ERROR records (message and extra fields) the handler logged.

    Powertools' handler writes to the stdout it found at import time, so log
    lines are read through logging (caplog), not from captured output.
    """
    return [
        {**record.__dict__, "message": record.getMessage()}
        for record in caplog.records
        if record.levelname == "ERROR"
    ]
