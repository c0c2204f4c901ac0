"""Test helpers for the integration tests: a settable clock and an operation log."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, List


class FakeClock:
    """A settable clock for the repository (timestamps, activity days)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


class OperationLog:
    """Every operation a boto3 client sends, recorded by a botocore event hook
    (nothing is patched: the request still goes to the emulator)."""

    def __init__(self, client: Any) -> None:
        self.operations: List[str] = []
        self._lock = threading.Lock()
        self._client = client
        client.meta.events.register("before-call.dynamodb", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.operations.append(model.name)

    def clear(self) -> None:
        with self._lock:
            self.operations.clear()

    def close(self) -> None:
        self._client.meta.events.unregister("before-call.dynamodb", self._record)


def stream_kpi_handler(client: Any, table_name: str) -> Any:
    """A stream handler applying each batch to the KPI ledger (the aggregator's core)."""
    from todo_core.kpi_changes import kpi_change
    from todo_core.kpi_ledger import KpiLedger

    ledger = KpiLedger(client, table_name)

    def handle(event: Any, context: Any) -> Any:
        ledger.apply(event["shardId"], [kpi_change(r) for r in event["Records"]])
        return {"state": {}, "batchItemFailures": []}

    return handle


def apply_stream_to_kpis(stack: Any, client: Any, table_name: str) -> None:
    """Run the table's stream through the KPI ledger until it has caught up.

    Each call reads the stream from its start, as a new mapping would; the
    ledger's checkpoints skip what earlier calls applied.
    """
    from todo_local.stream_runner import StreamRunner

    with StreamRunner(
        stack.client("dynamodbstreams"),
        stack.stream_arn,
        stream_kpi_handler(client, table_name),
        tumbling_window=60,
        max_retries=0,
        poll_interval=0.02,
    ) as runner:
        runner.drain(timeout=60)
        assert not runner.on_failure, runner.on_failure
