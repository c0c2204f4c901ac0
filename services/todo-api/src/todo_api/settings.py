"""The function's configuration: environment variables, validated once per container.

The Pulumi program sets exactly these variables on the Lambda; the local stack
(``todo_local.api_process``) sets them for uvicorn. Anything invalid stops the
container at start-up with a clear message instead of failing requests later.
"""

from __future__ import annotations

import os
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Request bodies larger than this are refused with 413 before parsing.
MAX_BODY_BYTES = 64 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    stage: str = Field("local", min_length=1)
    table_name: str = Field("", description="the single DynamoDB table")
    #: HMAC key for pagination cursors (at least 32 bytes).
    cursor_secret: str = Field("", repr=False)

    #: ``jwt``: verify the bearer token here (default, used locally).
    #: ``apigateway``: API Gateway's JWT authorizer verified it; read its claims.
    auth_mode: Literal["jwt", "apigateway"] = "jwt"
    cognito_user_pool_id: str = ""
    cognito_client_id: str = ""
    cognito_issuer: Optional[str] = None
    cognito_jwks_url: Optional[str] = None
    aws_region: str = "us-east-1"
    #: Clock skew tolerated on exp / nbf / iat.
    jwt_leeway_seconds: int = Field(30, ge=0, le=300)
    #: How long the pool's key set is cached before it is fetched again.
    jwks_cache_seconds: int = Field(3600, ge=1)
    #: An unknown ``kid`` refetches the key set at most this often (key
    #: rotation is picked up; a flood of forged kids costs one fetch per window).
    jwks_refresh_cooldown_seconds: float = Field(30.0, ge=0)

    #: How long an Idempotency-Key is remembered (the records' DynamoDB TTL).
    idempotency_ttl_seconds: int = Field(86400, ge=86400)
    #: Longest time a request may hold its key "in flight" (outside Lambda; in
    #: Lambda the invocation's remaining time is used).
    idempotency_in_flight_seconds: int = Field(30, ge=1, le=900)

    #: API Gateway stage prefix (e.g. ``/prod``), stripped from request paths.
    api_base_path: str = ""
    max_body_bytes: int = Field(MAX_BODY_BYTES, ge=1024)
    #: Where blocking AWS calls run: ``inline`` on the event loop (Lambda
    #: serves one request per container, a thread hop only adds latency) or
    #: ``threadpool`` (uvicorn serves many requests concurrently).
    blocking_io: Literal["auto", "inline", "threadpool"] = "auto"

    @field_validator("api_base_path")
    @classmethod
    def _normalise_base_path(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith("/"):
            value = "/" + value
        return value

    @model_validator(mode="after")
    def _check_secret(self) -> Settings:
        if self.cursor_secret and len(self.cursor_secret.encode("utf-8")) < 32:
            raise ValueError("CURSOR_SECRET must be at least 32 bytes")
        return self

    @property
    def issuer(self) -> str:
        if self.cognito_issuer:
            return self.cognito_issuer.rstrip("/")
        return f"https://cognito-idp.{self.aws_region}.amazonaws.com/{self.cognito_user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return self.cognito_jwks_url or f"{self.issuer}/.well-known/jwks.json"

    @property
    def offload_blocking_io(self) -> bool:
        if self.blocking_io == "auto":
            return "AWS_LAMBDA_FUNCTION_NAME" not in os.environ
        return self.blocking_io == "threadpool"

    def require_data_settings(self) -> None:
        """The table and cursor secret are needed by every data route."""
        missing = [
            name
            for name, value in (
                ("TABLE_NAME", self.table_name),
                ("CURSOR_SECRET", self.cursor_secret),
            )
            if not value
        ]
        if missing:
            raise RuntimeError(f"missing configuration: {', '.join(missing)}")
