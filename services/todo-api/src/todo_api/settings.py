"""The function's configuration contract: environment variables, validated at import.

This is the one declaration of what the API reads from its environment.
:func:`environment_variables` exports it (field -> variable name) so the
deployment (Pulumi) and the local stack can be checked against it instead of
spelling the names again. Everything is validated when the module that
builds the app is imported: a missing or invalid variable stops the
container at start with one message naming every problem, instead of
answering each request with 500 or, worse, 401.

Secrets are not environment variables: ``CURSOR_SECRET_ID`` names the
Secrets Manager secret holding the cursor-signing key (read by
:mod:`todo_api.cursor_keys`).

The model reads the environment itself (a plain pydantic model) rather than
through pydantic-settings: that library imports every settings source it
supports (dotenv, argparse, the cloud secret stores) when it is imported,
about a tenth of a hello-world FastAPI cold start, to read a dozen variables.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Literal, Optional, Tuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from todo_core.cursor import DEFAULT_MAX_AGE_SECONDS
from todo_core.ports import DEFAULT_TASK_QUOTA

#: Request bodies larger than this are refused with 413 before parsing.
MAX_BODY_BYTES = 64 * 1024


class ConfigurationError(RuntimeError):
    """The environment does not configure a working API (raised at start)."""


class Settings(BaseModel):
    """The settings: keyword arguments, else the environment variable, else the default.

    A field's variable is its name in any case (``TABLE_NAME``); values are
    validated as pydantic validates strings (``"3600"`` is an int).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_from_environment(), **values})

    stage: str = Field("local", min_length=1)
    #: The single DynamoDB table (required).
    table_name: str = ""
    #: Secrets Manager id (name or ARN) of the cursor-signing key (required).
    cursor_secret_id: str = ""
    #: How long a pagination cursor stays valid.
    cursor_max_age_seconds: int = Field(DEFAULT_MAX_AGE_SECONDS, ge=60, le=7 * 86400)
    #: How long a container keeps the secret before reading it again (rotation
    #: is picked up within this time; the previous key stays accepted).
    secrets_cache_seconds: int = Field(300, ge=0, le=3600)
    #: The most tasks one user may have (403 task-quota-exceeded beyond).
    max_tasks_per_user: int = Field(DEFAULT_TASK_QUOTA, ge=1)

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
    def _required_for_auth_mode(self) -> Settings:
        missing = [
            name.upper() for name in required_fields(self.auth_mode) if not getattr(self, name)
        ]
        if self.auth_mode == "jwt" and not (self.cognito_user_pool_id or self.cognito_issuer):
            missing.append("COGNITO_USER_POOL_ID (or COGNITO_ISSUER)")
        if missing:
            raise ValueError(
                f"missing configuration for AUTH_MODE={self.auth_mode}: {', '.join(missing)}"
            )
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


def _from_environment() -> Dict[str, str]:
    """The environment's values of the settings' fields (variable names are case-insensitive)."""
    fields = Settings.model_fields
    return {name: value for key, value in os.environ.items() if (name := key.lower()) in fields}


def required_fields(auth_mode: str) -> Tuple[str, ...]:
    """Fields without a usable default in ``auth_mode`` (both modes check the client id)."""
    del auth_mode  # the same three today; jwt mode also needs the pool (see the validator)
    return ("table_name", "cursor_secret_id", "cognito_client_id")


def environment_variables() -> Dict[str, str]:
    """The contract: every setting's field name -> the environment variable that sets it."""
    return {name: name.upper() for name in Settings.model_fields}


def load_settings() -> Settings:
    """The environment's settings, or one :class:`ConfigurationError` naming every problem."""
    try:
        return Settings()
    except ValidationError as exc:
        problems: List[str] = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(part).upper() for part in error.get("loc", ()))
            message = str(error.get("msg", "")).removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None
