"""Quarantine, schema evolution, request logs, metrics and the process entry point."""

import json
import os
import subprocess
import sys

import awswrangler as wr
import boto3
import pytest

from tests.conftest import START_MS
from todo_core import events
from todo_lake_testing import synthetic
from todo_local.stack import glue_job_arguments

pytestmark = pytest.mark.integration


def test_bad_records_are_quarantined_with_reasons_and_the_rest_is_processed(lake):
    history = list(synthetic.workload(1, 2, 1, START_MS))
    good = "".join(events.to_json_line(e) for e in history)
    broken = dict(history[1], sequence_number="not-a-number")
    body = good + "this is not json\n" + json.dumps(broken) + "\n"
    lake.put_raw("cdc/2025/01/01/00/mixed-object", body.encode())
    counts = lake.run()
    assert counts.events_quarantined == 2
    assert counts.events_written == sum(1 for e in history if e["entity_type"] == "task")
    [key] = lake.silver.list_keys("quarantine/")
    assert key == "quarantine/cdc/2025/01/01/00/mixed-object.rejected.jsonl"
    records = [json.loads(line) for line in lake.silver.get_bytes(key).decode().splitlines()]
    assert [r["line_number"] for r in records] == [len(history) + 1, len(history) + 2]
    assert records[0]["reason"].startswith("invalid JSON")
    assert "sequence_number" in records[1]["reason"]
    assert records[1]["record"] == json.dumps(broken)
    # A re-run after a crash rewrites the same quarantine object: no copies.
    lake.run(full_refresh=True)
    assert lake.silver.list_keys("quarantine/") == [key]


def test_an_attribute_that_appears_later_becomes_a_nullable_column(lake):
    import random

    rng = random.Random(5)
    factory = synthetic.EventFactory(rng=rng)
    old = synthetic.new_task("u1", "t-old", START_MS, rng)
    lake.put_events([[factory.task_insert(old, START_MS)]])
    lake.run()
    later = START_MS + 2 * 86400000
    new = synthetic.new_task("u1", "t-new", later, rng)
    new["extra"] = {"EstimateHours": 4, "labels": ["a", "b"]}
    lake.put_events([[factory.task_insert(new, later)]], start_number=10)
    lake.run()

    columns = wr.catalog.get_table_types(database=lake.database, table="task_events")
    assert columns["estimatehours"] == "bigint"
    assert columns["labels"] == "array<string>"
    assert "estimatehours" in wr.catalog.get_table_types(database=lake.database, table="tasks")
    # Old partitions stay readable: with awswrangler and with the job's reader.
    frame = wr.s3.read_parquet(lake.silver.table_path("task_events"), dataset=True)
    by_task = {r["task_id"]: r for r in frame.to_dict("records")}
    assert by_task["t-new"]["estimatehours"] == 4
    assert by_task["t-old"]["estimatehours"] is None or str(by_task["t-old"]["estimatehours"]) in (
        "<NA>",
        "nan",
    )
    rows = {r["task_id"]: r for r in lake.rows("tasks", ("task_id",))}
    assert rows["t-old"]["estimatehours"] is None
    assert rows["t-new"]["labels"] == ["a", "b"]


def test_request_logs_become_api_requests(lake):
    line = {
        "level": "INFO",
        "timestamp": "2025-01-01 12:00:00,250+0000",
        "operation": "list_tasks",
        "status": 200,
        "duration_ms": 3.2,
        "user_id": "u1",
        "request_id": "r1",
    }
    body = json.dumps(line) + "\n" + json.dumps({"level": "INFO", "message": "hello"}) + "\n"
    lake.put_raw("logs/2025/01/01/12/todo-logs-stream-1", body.encode())
    lake.put_raw("logs/2025/01/01/12/todo-logs-stream-2", (json.dumps(line) + "\n").encode())
    counts = lake.run()
    assert counts.requests_written == 1
    assert counts.log_records_skipped == 1
    [row] = lake.rows("api_requests", ("request_id",))
    assert row["operation"] == "list_tasks"
    assert row["status_code"] == 200
    assert row["user_id"] == "u1"
    assert "api_requests" in wr.catalog.tables(database=lake.database)["Table"].tolist()


def test_the_module_runs_like_glue_runs_it_and_reports_metrics(lake):
    lake.put_events([list(synthetic.workload(1, 1, 1, START_MS))])
    names = lake.stack.names
    result = subprocess.run(
        # Glue adds arguments of its own (--JOB_ID): the job ignores them.
        [sys.executable, "-m", "todo_silver.job", *glue_job_arguments(names, JOB_ID="j_local")],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    [summary] = [r for r in lines if r["message"] == "silver run complete"]
    assert summary["counts"]["events_written"] == 2
    metrics = boto3.client("cloudwatch").list_metrics(Namespace="TodoApi/ETL")["Metrics"]
    assert "SilverEventsWritten" in {m["MetricName"] for m in metrics}


def test_a_bad_argument_list_fails_clearly():
    result = subprocess.run(
        [sys.executable, "-m", "todo_silver.job", "--BRONZE_BUCKET", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "--SILVER_BUCKET" in result.stderr


def test_an_attribute_whose_type_changes_between_objects_becomes_text(lake):
    import random

    rng = random.Random(9)
    factory = synthetic.EventFactory(rng=rng)
    first = synthetic.new_task("u1", "t-a", START_MS, rng)
    first["extra"] = {"estimate": 3}
    second = synthetic.new_task("u1", "t-b", START_MS + 1000, rng)
    second["extra"] = {"estimate": {"hours": 3}}
    lake.put_events(
        [[factory.task_insert(first, START_MS)], [factory.task_insert(second, START_MS + 1000)]]
    )
    counts = lake.run()
    assert counts.events_written == 2
    assert counts.transformed_by_sql == 2  # unknown attributes: the SQL decides
    for table, key in (("task_events", ("task_id",)), ("tasks", ("task_id",))):
        rows = {r["task_id"]: r for r in lake.rows(table, key)}
        assert rows["t-a"]["estimate"] == "3"
        assert json.loads(rows["t-b"]["estimate"]) == {"hours": 3}
