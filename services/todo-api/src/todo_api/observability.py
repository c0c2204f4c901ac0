"""Structured JSON logs (Powertools Logger) in the runbook's log format.

One line per request carries: ``request_id``, ``correlation_id``, ``user_id``,
``component``, ``operation``, ``duration_ms``, ``status`` (success|error),
``http_status``, ``message`` and ``metadata``. Fields are passed per call
(``extra=``), never appended to the logger, so concurrent requests under
uvicorn cannot mix their keys.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from typing import Any, Dict, Mapping, Optional

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

COMPONENT = "lambda-sync"
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is now (test runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "todo-api")
#: Powertools' formatter settings.
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
    logger_formatter=LambdaPowertoolsFormatter(service=SERVICE, **FORMAT_OPTIONS),
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
