"""Configuration, read once from the environment Pulumi sets and validated."""

from __future__ import annotations

import os
from typing import Mapping, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from todo_core.naming import LOCAL_ACCOUNT_ID, METRICS_NAMESPACE, ResourceNames


class Settings(BaseModel):
    """``STAGE``, ``TABLE_NAME`` and ``METRICS_NAMESPACE`` (the runbook's namespace by default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str
    table_name: str = Field(min_length=3, max_length=255)
    metrics_namespace: str = Field(default=METRICS_NAMESPACE, min_length=1, max_length=255)

    @field_validator("stage")
    @classmethod
    def _valid_stage(cls, value: str) -> str:
        # The stage rule lives in ResourceNames; building one applies it.
        ResourceNames(stage=value, account_id=LOCAL_ACCOUNT_ID, region="us-east-1")
        return value

    @field_validator("metrics_namespace")
    @classmethod
    def _custom_namespace(cls, value: str) -> str:
        if value.startswith("AWS/"):
            raise ValueError("the AWS/ namespaces are reserved for AWS services")
        return value

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {
            "stage": env.get("STAGE"),
            "table_name": env.get("TABLE_NAME"),
            "metrics_namespace": env.get("METRICS_NAMESPACE") or METRICS_NAMESPACE,
        }
        return cls.model_validate(values)
