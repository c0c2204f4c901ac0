"""The API's log formatter writes exactly Powertools' lines (it is only cheaper)."""

from __future__ import annotations

import logging
import sys
from typing import Any, Dict

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from hypothesis import given, settings
from hypothesis import strategies as st

from todo_api.observability import FORMAT_OPTIONS, SERVICE, JsonLineFormatter, logger

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(), inner, max_size=3)
    ),
    max_leaves=8,
)
# Extra fields as callers pass them (``extra=``): any name a LogRecord does not have.
EXTRAS = st.dictionaries(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,11}", fullmatch=True).filter(
        lambda k: not hasattr(logging.makeLogRecord({}), k) and k not in ("message", "asctime")
    ),
    JSON_VALUES,
    max_size=8,
)


def _record(
    message: Any, extras: Dict[str, Any], level: int = logging.INFO, **kwargs: Any
) -> logging.LogRecord:
    record = logging.LogRecord(
        "todo-api",
        level,
        "/var/task/todo_api/middleware.py",
        130,
        message,
        kwargs.get("args"),
        kwargs.get("exc_info"),
        func="__call__",
    )
    record.created = 1_795_636_800.123456
    record.msecs = 123.0
    for key, value in extras.items():
        setattr(record, key, value)
    return record


def _pair() -> tuple:
    ours = JsonLineFormatter(service=SERVICE, **FORMAT_OPTIONS)
    theirs = LambdaPowertoolsFormatter(service=SERVICE, **FORMAT_OPTIONS)
    for formatter in (ours, theirs):  # as the Logger appends its default keys
        formatter.append_keys(service=SERVICE, sampling_rate=None)
    return ours, theirs


@settings(max_examples=150)
@given(EXTRAS, st.sampled_from(["request completed", "{not json", "%d items"]))
def test_any_extra_fields_give_powertools_line(extras: Dict[str, Any], message: str) -> None:
    ours, theirs = _pair()
    args = (3,) if "%d" in message else None
    record = _record(message, extras, args=args)
    assert ours.format(record) == theirs.format(_record(message, extras, args=args))


def test_exceptions_and_appended_keys_give_powertools_line() -> None:
    ours, theirs = _pair()
    for formatter in (ours, theirs):
        formatter.append_keys(stage="prod", cold_start=True)
    try:
        raise RuntimeError("secret internals")
    except RuntimeError:
        exc_info = sys.exc_info()
    extras = {
        "request_id": "r-1",
        "http_status": 500,
        "metadata": {"path": "/x"},
        "taskName": "Task-9",
    }
    line = ours.format(_record("unhandled error", extras, logging.ERROR, exc_info=exc_info))
    assert line == theirs.format(
        _record("unhandled error", extras, logging.ERROR, exc_info=exc_info)
    )
    assert '"stage":"prod"' in line
    assert "secret internals" in line


def test_a_reserved_key_overridden_with_a_non_string_is_refused_as_powertools_does() -> None:
    ours, theirs = _pair()
    outcomes = []
    for formatter in (ours, theirs):
        formatter.append_keys(location=42)
        try:
            formatter.format(_record("x", {}))
            outcomes.append("ok")
        except ValueError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1] != "ok"


def test_the_api_logger_uses_it() -> None:
    assert isinstance(logger.registered_formatter, JsonLineFormatter)
