"""Structured JSON logs (Powertools Logger) in the runbook's log format.

One line per request carries: ``request_id``, ``correlation_id``, ``user_id``,
``component``, ``operation``, ``duration_ms``, ``status`` (success|error),
``http_status``, ``message`` and ``metadata``. Fields are passed per call
(``extra=``), never appended to the logger, so concurrent requests under
uvicorn cannot mix their keys.
"""

from __future__ import annotations

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
    """Powertools' JSON formatter, writing the same lines for less.

    Its key extraction tests each attribute of every record (about 30 of
    them) against a tuple of 24 reserved names; here against a set. That
    was a third of formatting the access line, which every request writes.
    The lines are Powertools' own, field for field and in the same order
    (tested against ``LambdaPowertoolsFormatter``).
    """

    def _extract_log_keys(self, log_record: logging.LogRecord) -> Dict[str, Any]:
        values = {**log_record.__dict__, "asctime": self.formatTime(record=log_record)}
        formatted: Dict[str, Any] = {}
        for keys in (self.log_format, self.thread_safe_get_current_keys()):
            for key, value in keys.items():
                if value and key in _RESERVED:
                    if not isinstance(value, str):
                        raise ValueError(
                            "Logging keys that override reserved log attributes need to be type"
                            f" 'str', instead got '{type(value).__name__}'"
                        )
                    formatted[key] = value % values
                else:
                    formatted[key] = value
        formatted.update({k: v for k, v in values.items() if k not in _RESERVED})
        return formatted


SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "todo-api")
#: The formatter's settings (also those of the formatter the tests compare with).
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


def correlation_id(header_value: Optional[str], event: Optional[Mapping[str, Any]]) -> str:
    """The client's X-Request-ID when it is sane, else API Gateway's request id, else new."""
    if header_value and _REQUEST_ID_RE.match(header_value):
        return header_value
    gateway = gateway_request_id(event)
    return gateway or uuid.uuid4().hex


def gateway_request_id(event: Optional[Mapping[str, Any]]) -> Optional[str]:
    if not event:
        return None
    value = (event.get("requestContext") or {}).get("requestId")
    return value if isinstance(value, str) and value else None
