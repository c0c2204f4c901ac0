"""The Lambda's configuration, validated once from its environment.

Pulumi sets ``STAGE``, ``TABLE_NAME``, ``POWERTOOLS_SERVICE_NAME``,
``POWERTOOLS_METRICS_NAMESPACE`` and ``LOG_LEVEL``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Mapping, Optional

from pydantic import BaseModel, ConfigDict, Field

from todo_core.naming import METRICS_NAMESPACE

SERVICE_NAME = "todo-kpi-aggregator"


class Settings(BaseModel):
    """Each field is read from the upper-cased environment variable of its name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str = Field(pattern=r"^[a-z][a-z0-9]{1,11}$")
    table_name: str = Field(min_length=3, max_length=255)
    powertools_metrics_namespace: str = Field(default=METRICS_NAMESPACE, min_length=1)
    powertools_service_name: str = Field(default=SERVICE_NAME, min_length=1)
    log_level: str = Field(default="INFO", pattern=r"^(?i:DEBUG|INFO|WARNING|ERROR|CRITICAL)$")

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this execution environment (read once, on first use)."""
    return Settings.from_env()
