"""API request logs in bronze -> ``api_requests`` rows.

The API logs one structured (Powertools) JSON line per request. This reader
is deliberately tolerant of the exact shape: it accepts plain JSON lines,
records glued together without newlines (raw Firehose concatenation), and
CloudWatch Logs subscription envelopes (``logEvents[].message``); it maps a
few common spellings of each field. A record is a *request* when it carries a
request id and a status code; other log records are skipped (counted), and
text that is not JSON is quarantined.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pyarrow as pa

from todo_lake.silver_schema import API_REQUEST_COLUMNS, arrow_schema
from todo_silver.parse import Rejected

_FIELDS: Dict[str, Tuple[str, ...]] = {
    "request_id": (
        "request_id",
        "requestId",
        "correlation_id",
        "function_request_id",
        "aws_request_id",
    ),
    "operation": ("operation", "route", "operation_name"),
    "status_code": ("http_status", "status_code", "statusCode", "status"),
    "duration_ms": ("duration_ms", "latency_ms", "durationMs", "duration"),
    "user_id": ("user_id", "userId", "sub"),
    "method": ("method", "http_method", "httpMethod"),
    "path": ("path", "raw_path", "rawPath"),
    "level": ("level",),
    "service": ("service",),
}
#: The api_requests columns, from silver's schema.
SCHEMA = arrow_schema(API_REQUEST_COLUMNS)


@dataclass
class ParsedLogs:
    rows: List[Dict[str, Any]] = field(default_factory=list)
    rejected: List[Rejected] = field(default_factory=list)
    skipped: int = 0

    def table(self) -> Optional[pa.Table]:
        return pa.Table.from_pylist(self.rows, schema=SCHEMA) if self.rows else None


def _values(line: str) -> Iterator[Any]:
    """Every JSON value in ``line`` (several when records were glued together)."""
    decoder = json.JSONDecoder()
    index, end = 0, len(line)
    while index < end:
        while index < end and line[index] in " \t\r\n,":
            index += 1
        if index >= end:
            return
        value, index = decoder.raw_decode(line, index)
        yield value


def _first(record: Dict[str, Any], names: Tuple[str, ...]) -> Any:
    for name in names:
        if record.get(name) is not None:
            return record[name]
    return None


_FORMATS = ("%Y-%m-%d %H:%M:%S,%f%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")


def parse_time(value: Any) -> Optional[dt.datetime]:
    """Powertools' ``2025-01-01 12:00:00,123+0000``, ISO-8601 or epoch s/ms, as naive UTC."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 10**11 else value
        return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).replace(tzinfo=None)
    text = str(value).strip().replace("Z", "+0000")
    for fmt in _FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).astimezone(dt.timezone.utc).replace(tzinfo=None)
        except ValueError:
            continue
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


def _int(value: Any) -> Optional[int]:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def request_row(
    record: Dict[str, Any], fallback_time: Optional[dt.datetime] = None
) -> Optional[Dict[str, Any]]:
    """The api_requests row of a log record, or None when it is not a request record."""
    message = record.get("message")
    if isinstance(message, dict):  # Powertools puts a dict message under "message"
        record = {**record, **message}
    metadata = record.get("metadata")
    if isinstance(metadata, dict):  # the API nests method and path here
        record = {**metadata, **record}
    request_id = _first(record, _FIELDS["request_id"])
    # "status" may be a word ("success"); the first field that is a number wins.
    status = next(
        (_int(record[n]) for n in _FIELDS["status_code"] if _int(record.get(n)) is not None), None
    )
    if request_id is None or status is None:
        return None
    when = parse_time(record.get("timestamp")) or fallback_time
    if when is None:
        return None
    user = _first(record, _FIELDS["user_id"])
    return {
        "request_id": str(request_id),
        "request_time": when,
        "operation": _str(_first(record, _FIELDS["operation"])),
        "status_code": status,
        "duration_ms": _float(_first(record, _FIELDS["duration_ms"])),
        "user_id": None if user is None else str(user),
        "method": _str(_first(record, _FIELDS["method"])),
        "path": _str(_first(record, _FIELDS["path"])),
        "level": _str(record.get("level")),
        "service": _str(record.get("service")),
        "is_error": status >= 500,
        "request_date": when.strftime("%Y-%m-%d"),
    }


def _str(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def _records(value: Any) -> Iterator[Tuple[Dict[str, Any], Optional[dt.datetime]]]:
    if isinstance(value, list):
        for item in value:
            yield from _records(item)
    elif isinstance(value, dict) and isinstance(value.get("logEvents"), list):
        # A CloudWatch Logs subscription envelope: the log lines are in logEvents.
        for event in value["logEvents"]:
            message = event.get("message") if isinstance(event, dict) else None
            when = parse_time(event.get("timestamp")) if isinstance(event, dict) else None
            if isinstance(message, str):
                try:
                    inner = json.loads(message)
                except ValueError:
                    continue
                if isinstance(inner, dict):
                    yield inner, when
    elif isinstance(value, dict):
        yield value, None


def parse_request_logs(data: bytes) -> ParsedLogs:
    out = ParsedLogs()
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        text = raw.decode("utf-8", errors="replace")
        try:
            values = list(_values(text))
        except ValueError as exc:
            out.rejected.append(Rejected(number, f"invalid JSON: {exc}", text))
            continue
        for value in values:
            for record, when in _records(value):
                row = request_row(record, when)
                if row is None:
                    out.skipped += 1
                else:
                    out.rows.append(row)
    return out
