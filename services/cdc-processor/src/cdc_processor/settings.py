"""The Lambda's configuration, validated once from its environment.

Pulumi sets exactly ``STAGE``, ``FIREHOSE_STREAM_NAME``,
``POWERTOOLS_METRICS_NAMESPACE``, ``POWERTOOLS_SERVICE_NAME`` and ``LOG_LEVEL``;
the delivery tunables below have defaults and exist for tests and tuning.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Mapping, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cdc_processor.delivery import WORST_CALL_SECONDS, RetryPolicy
from todo_core.naming import METRICS_NAMESPACE

SERVICE_NAME = "todo-cdc-processor"


class Settings(BaseModel):
    """Each field is read from the upper-cased environment variable of its name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str = Field(pattern=r"^[a-z][a-z0-9]{1,11}$")
    #: Firehose delivery stream names: 1-64 characters of [a-zA-Z0-9_.-].
    firehose_stream_name: str = Field(pattern=r"^[a-zA-Z0-9_.-]{1,64}$")
    powertools_metrics_namespace: str = Field(default=METRICS_NAMESPACE, min_length=1)
    powertools_service_name: str = Field(default=SERVICE_NAME, min_length=1)
    log_level: str = Field(default="INFO", pattern=r"^(?i:DEBUG|INFO|WARNING|ERROR|CRITICAL)$")

    #: PutRecordBatch attempts per chunk (1 = no retry); failed entries only are
    #: re-sent. Unset: as many as the invocation's remaining time allows.
    firehose_max_attempts: Optional[int] = Field(default=None, ge=1, le=1000)
    #: Exponential backoff with full jitter: sleep ~ U(0, min(cap, base * 2**retry)).
    firehose_backoff_base_ms: int = Field(default=50, ge=0, le=10_000)
    firehose_backoff_cap_ms: int = Field(default=2_000, ge=0, le=60_000)
    #: Start no PutRecordBatch with less than this much of the invocation left,
    #: so the handler always returns its partial-batch response before the
    #: timeout: at least one call's worst case (connect + read timeout).
    firehose_deadline_margin_ms: int = Field(
        default=int(RetryPolicy().deadline_margin_seconds * 1000), le=600_000
    )

    @field_validator("firehose_deadline_margin_ms")
    @classmethod
    def _margin_covers_a_call(cls, value: int) -> int:
        if value < WORST_CALL_SECONDS * 1000:
            raise ValueError(
                f"the deadline margin ({value} ms) must cover one call's worst case:"
                f" connect + read timeout = {WORST_CALL_SECONDS * 1000} ms"
            )
        return value

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Settings:
        """Validate the environment (plain pydantic: no settings library in the zip)."""
        env = os.environ if environ is None else environ
        values = {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this execution environment (read once, on first use)."""
    return Settings.from_env()
