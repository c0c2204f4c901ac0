"""The API's log formatter writes exactly Powertools' lines (it is only cheaper)."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, Dict, Optional, Tuple

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from hypothesis import given, settings
from hypothesis import strategies as st

from todo_api.observability import (
    FORMAT_OPTIONS,
    SERVICE,
    XRAY_TRACE_ID_ENV,
    JsonLineFormatter,
    logger,
)

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(), inner, max_size=3)
    ),
    max_leaves=8,
)
# Extra fields as callers pass them (``extra=``): any name a LogRecord does not
# have, including names the formatter itself writes (exception, stack_trace, ...).
EXTRAS = st.dictionaries(
    st.one_of(
        st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,11}", fullmatch=True),
        st.sampled_from(
            ["exception", "exception_name", "stack_trace", "xray_trace_id", "service", "level"]
        ),
    ).filter(
        lambda k: not hasattr(logging.makeLogRecord({}), k) and k not in ("message", "asctime")
    ),
    JSON_VALUES,
    max_size=8,
)
MESSAGES = st.one_of(
    st.sampled_from(["request completed", "{not json", '{"a": 1}', "[1, 2]", "3", "%d items"]),
    st.text(max_size=30),
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


def _pair(**options: Any) -> Tuple[LambdaPowertoolsFormatter, LambdaPowertoolsFormatter]:
    options = {**FORMAT_OPTIONS, **options}
    ours = JsonLineFormatter(service=SERVICE, **options)
    theirs = LambdaPowertoolsFormatter(service=SERVICE, **options)
    for formatter in (ours, theirs):  # as the Logger appends its default keys
        formatter.append_keys(service=SERVICE, sampling_rate=None)
    return ours, theirs


def _both(message: Any, extras: Dict[str, Any], **options: Any) -> Tuple[str, str]:
    ours, theirs = _pair(**options)
    args = (3,) if message == "%d items" else None
    return (
        ours.format(_record(message, extras, args=args)),
        theirs.format(_record(message, extras, args=args)),
    )


@settings(max_examples=200)
@given(EXTRAS, MESSAGES, st.sampled_from([None, "Root=1-5759e988-bd862e3fe1be46a994272793;P=1"]))
def test_any_record_gives_powertools_line(
    extras: Dict[str, Any], message: str, trace: Optional[str]
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        if trace is None:
            patch.delenv(XRAY_TRACE_ID_ENV, raising=False)
        else:
            patch.setenv(XRAY_TRACE_ID_ENV, trace)
        ours, theirs = _both(message, extras)
    assert ours == theirs
    json.loads(ours)


@settings(max_examples=50)
@given(EXTRAS, MESSAGES)
def test_powertools_defaults_give_powertools_line(extras: Dict[str, Any], message: str) -> None:
    # Powertools' own options: local time, its timestamp format, JSON messages parsed.
    ours, theirs = JsonLineFormatter(service=SERVICE), LambdaPowertoolsFormatter(service=SERVICE)
    record = _record(message, extras, args=(3,) if message == "%d items" else None)
    assert ours.format(record) == theirs.format(record)


def test_non_text_messages_give_powertools_line() -> None:
    for message in ({"event": "x", "n": 1}, 42, None, ["a"]):
        ours, theirs = _both(message, {"request_id": "r-1"})
        assert ours == theirs


def test_exceptions_and_appended_keys_give_powertools_line() -> None:
    ours, theirs = _pair()
    for formatter in (ours, theirs):
        formatter.append_keys(stage="prod", cold_start=True, xray_trace_id=None)
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
    plain = ours.format(_record("request completed", extras))
    assert plain == theirs.format(_record("request completed", extras))
    assert '"stage":"prod"' in plain


def test_context_keys_give_powertools_line() -> None:
    ours, theirs = _pair()
    ours.thread_safe_append_keys(tenant="acme", location="%(module)s")
    try:
        assert ours.format(_record("request completed", {"a": 1})) == theirs.format(
            _record("request completed", {"a": 1})
        )
        assert '"tenant":"acme"' in ours.format(_record("x", {}))
        assert '"location":"middleware"' in ours.format(_record("x", {}))
    finally:
        ours.thread_safe_clear_keys()


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


def test_a_serializer_given_is_used() -> None:
    formatter = JsonLineFormatter(service=SERVICE, json_serializer=lambda log: "custom")
    assert formatter.format(_record("x", {})) == "custom"


def test_the_api_logger_uses_it() -> None:
    assert isinstance(logger.registered_formatter, JsonLineFormatter)
