"""Structured JSON logs (Powertools Logger) in the runbook's log format.

One line per request carries: ``request_id``, ``correlation_id``, ``user_id``,
``component``, ``operation``, ``duration_ms``, ``status`` (success|error),
``http_status``, ``message`` and ``metadata``. Fields are passed per call
(``extra=``), never appended to the logger, so concurrent requests under
uvicorn cannot mix their keys.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import uuid
from typing import Any, Dict, Mapping, Optional

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter

COMPONENT = "lambda-sync"
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is now (test runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


_RESERVED = frozenset(RESERVED_LOG_ATTRS)


class JsonLineFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, byte for byte, written for less.

    Every request writes an access line, and formatting it was about half of
    the line's cost, a sixth of a warm request. For a plain record (a message
    without %-arguments, no exception) ``format`` builds Powertools' dict the
    way Powertools does (its keys in its order, then the context keys, the
    record's extra attributes, the message, the X-Ray trace id, None values
    dropped) but looks the record's ~30 attributes up in a set rather than
    a tuple of 24 reserved names, and serialises with one reused encoder
    configured as Powertools' ``json.dumps`` call (a ``json.dumps`` with
    options builds a new encoder per call). Any other record is Powertools'
    own ``format``. ``tests/unit/test_log_format.py`` compares the two
    formatters' lines for generated records.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if kwargs.get("json_serializer") is None:
            # Exactly what Powertools' default serializer calls, built once.
            self.json_serializer = json.JSONEncoder(
                default=self.json_default,
                separators=(",", ":"),
                indent=self.json_indent,
                ensure_ascii=False,
            ).encode

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.args or not isinstance(record.msg, str):
            return super().format(record)
        attributes = record.__dict__
        with_time: Optional[Dict[str, Any]] = None
        formatted: Dict[str, Any] = {}
        for keys in (self.log_format, self.thread_safe_get_current_keys()):
            for key, value in keys.items():
                if value and key in _RESERVED:
                    if not isinstance(value, str):
                        return super().format(record)  # Powertools' own error
                    if with_time is None:
                        with_time = {**attributes, "asctime": self.formatTime(record)}
                    formatted[key] = value % with_time
                else:
                    formatted[key] = value
        for key, value in attributes.items():
            if key not in _RESERVED:
                formatted[key] = value
        try:
            message: Any = self.json_deserializer(record.msg)
        except (json.decoder.JSONDecodeError, TypeError, ValueError):
            message = record.msg
        formatted["message"] = message
        for key in ("exception", "exception_name", "exception_notes"):
            formatted.setdefault(key, None)
        if self.serialize_stacktrace:
            formatted["stack_trace"] = None
        formatted["xray_trace_id"] = self._trace_id()
        return self.serialize({k: v for k, v in formatted.items() if v is not None})  # type: ignore[arg-type]

    def _trace_id(self) -> Optional[str]:
        if self.log_format.get("xray_trace_id", "") is None:  # disabled: Logger(xray_trace_id=None)
            return None
        value = os.environ.get(XRAY_TRACE_ID_ENV)
        return value.split(";")[0].replace("Root=", "") if value else None


XRAY_TRACE_ID_ENV = "_X_AMZN_TRACE_ID"
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "todo-api")
#: The formatter's settings (also those of Powertools' formatter the tests compare with).
FORMAT_OPTIONS: Dict[str, Any] = {
    "use_rfc3339": True,
    "utc": True,
    # Messages here are plain sentences, never JSON documents: skip
    # Powertools' attempt to parse every message as JSON (a failed
    # json.loads per log line).
    "json_deserializer": lambda text: text,
}

logger = Logger(
    service=SERVICE,
    stream=_CurrentStdout(),  # type: ignore[arg-type]
    logger_formatter=JsonLineFormatter(service=SERVICE, **FORMAT_OPTIONS),
)


def correlation_id(header_value: Optional[str], gateway_id: Optional[str]) -> str:
    """The client's X-Request-ID when it is sane, else API Gateway's request id, else new.

    ``gateway_id`` is :func:`gateway_request_id` of the request's event.
    """
    if header_value and _REQUEST_ID_RE.match(header_value):
        return header_value
    return gateway_id or uuid.uuid4().hex


def gateway_request_id(event: Optional[Mapping[str, Any]]) -> Optional[str]:
    if not event:
        return None
    value = (event.get("requestContext") or {}).get("requestId")
    return value if isinstance(value, str) and value else None
