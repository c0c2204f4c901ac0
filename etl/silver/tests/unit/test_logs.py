import datetime as dt
import json

from todo_silver.logs import parse_request_logs, parse_time


def _line(**fields):
    base = {
        "level": "INFO",
        "service": "todo-api",
        "message": "request completed",
        "timestamp": "2025-01-01 12:00:00,250+0000",
        "operation": "create_task",
        "status": 201,
        "duration_ms": 12.5,
        "user_id": "u1",
        "request_id": "r1",
        "method": "POST",
        "path": "/tasks",
    }
    base.update(fields)
    return json.dumps(base)


def test_request_records_become_rows_and_other_records_are_skipped():
    data = "\n".join(
        [
            _line(),
            json.dumps({"level": "DEBUG", "message": "cold start"}),
            _line(request_id="r2", status=500, timestamp="2025-01-02T00:00:00.000Z"),
        ]
    ).encode()
    parsed = parse_request_logs(data)
    assert parsed.skipped == 1
    assert not parsed.rejected
    first, second = parsed.rows
    assert first["request_time"] == dt.datetime(2025, 1, 1, 12, 0, 0, 250000)
    assert first["status_code"] == 201
    assert first["duration_ms"] == 12.5
    assert not first["is_error"]
    assert second["request_date"] == "2025-01-02"
    assert second["is_error"]
    assert parsed.table().num_rows == 2


def test_glued_records_and_cloudwatch_envelopes_are_understood():
    envelope = {
        "messageType": "DATA_MESSAGE",
        "logEvents": [
            {
                "id": "1",
                "timestamp": 1735732800000,
                "message": _line(request_id="r3", timestamp=None),
            }
        ],
    }
    data = (_line() + _line(request_id="r4") + "\n" + json.dumps(envelope)).encode()
    parsed = parse_request_logs(data)
    assert [r["request_id"] for r in parsed.rows] == ["r1", "r4", "r3"]
    assert parsed.rows[2]["request_time"] == dt.datetime(2025, 1, 1, 12, 0)


def test_text_that_is_not_json_is_quarantined():
    parsed = parse_request_logs(b"START RequestId: abc\n" + _line().encode())
    assert len(parsed.rows) == 1
    assert parsed.rejected[0].line_number == 1


def test_time_formats():
    assert parse_time(1735732800) == dt.datetime(2025, 1, 1, 12)
    assert parse_time("2025-01-01T12:00:00+01:00") == dt.datetime(2025, 1, 1, 11)
    assert parse_time("never") is None


def test_the_api_log_shape():
    """What services/todo-api's middleware logs: http_status is the code, status a word."""
    line = json.dumps(
        {
            "level": "INFO",
            "location": "m:1",
            "message": "request completed",
            "timestamp": "2025-01-01 12:00:00,250+0000",
            "service": "todo-api",
            "request_id": "r9",
            "correlation_id": "r9",
            "user_id": "u1",
            "component": "api",
            "operation": "create_task",
            "duration_ms": 4.25,
            "status": "success",
            "http_status": 201,
            "metadata": {"method": "POST", "path": "/api/v1/tasks", "table_name": "t"},
        }
    )
    [row] = parse_request_logs(line.encode()).rows
    assert (row["status_code"], row["method"], row["path"]) == (201, "POST", "/api/v1/tasks")
    assert row["operation"] == "create_task"
    assert row["duration_ms"] == 4.25
