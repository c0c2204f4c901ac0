"""The objects a container keeps between requests, created when first needed.

The AWS SDK, the DynamoDB client, Powertools' idempotency layer, the cursor keys
and the JWKS client are built on first use, not at import: the Lambda init
phase then only pays for the web framework, and ``/health`` never touches
AWS. Tests and benchmarks inject their own stores, idempotency or verifier.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, TypeVar

from todo_api.auth import (
    AuthError,
    JwtVerifier,
    Principal,
    apigateway_claims,
    bearer_token,
    principal_from_claims,
)
from todo_api.idempotency import Idempotency
from todo_api.observability import logger
from todo_api.settings import Settings
from todo_core.ports import ProfileStore, TaskStore

if TYPE_CHECKING:
    # The service (the use cases) is imported by the first request that needs
    # it: /health does not.
    from todo_api.service import TaskService

T = TypeVar("T")


def dynamodb_client() -> Any:
    """A plain DynamoDB client; AWS_ENDPOINT_URL points it at the emulator locally.

    Made by botocore, as ``boto3.client`` would make it (same credentials,
    region and endpoint resolution), without importing boto3: its resource
    layer is a third of the SDK's import, paid by a container's first request.
    """
    import botocore.session
    from botocore.config import Config

    return botocore.session.get_session().create_client(
        "dynamodb",
        config=Config(
            # Throttling is retried by botocore first; what still fails is a 503.
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=2,
            read_timeout=5,
            max_pool_connections=32,
        ),
    )


class Container:
    def __init__(
        self,
        settings: Settings,
        tasks: Optional[TaskStore] = None,
        profiles: Optional[ProfileStore] = None,
        idempotency: Optional[Idempotency] = None,
        verifier: Optional[JwtVerifier] = None,
        client_factory: Callable[[], Any] = dynamodb_client,
    ) -> None:
        self.settings = settings
        self.offload = settings.offload_blocking_io
        self._client_factory = client_factory
        self._client: Any = None
        self._tasks = tasks
        self._profiles = profiles
        self._idempotency = idempotency
        self._verifier = verifier
        self._service: Optional[TaskService] = None
        # Re-entrant: building the service builds the stores.
        self._lock = threading.RLock()

    def _once(self, name: str, build: Callable[[], T]) -> T:
        value = getattr(self, name)
        if value is None:
            with self._lock:
                value = getattr(self, name)
                if value is None:
                    value = build()
                    setattr(self, name, value)
        return value  # type: ignore[no-any-return]

    @property
    def client(self) -> Any:
        return self._once("_client", self._client_factory)

    @property
    def tasks(self) -> TaskStore:
        def build() -> TaskStore:
            from todo_api.cursor_keys import CursorKeys, SecretCursorCodec
            from todo_core.task_repository import TaskRepository

            s = self.settings
            keys = CursorKeys(s.cursor_secret_id, s.secrets_cache_seconds)
            codec = SecretCursorCodec(keys, s.cursor_max_age_seconds)
            return TaskRepository(self.client, s.table_name, codec, task_quota=s.max_tasks_per_user)

        return self._once("_tasks", build)

    @property
    def profiles(self) -> ProfileStore:
        def build() -> ProfileStore:
            from todo_core.profile_repository import ProfileRepository

            return ProfileRepository(self.client, self.settings.table_name)

        return self._once("_profiles", build)

    @property
    def service(self) -> TaskService:
        if self._service is not None:  # every request: skip building the builder
            return self._service

        def build() -> TaskService:
            from todo_api.service import TaskService

            return TaskService(self.tasks, self.profiles)

        return self._once("_service", build)

    @property
    def idempotency(self) -> Idempotency:
        def build() -> Idempotency:
            return Idempotency.dynamodb(
                self.client,
                self.settings.table_name,
                ttl_seconds=self.settings.idempotency_ttl_seconds,
                in_flight_seconds=self.settings.idempotency_in_flight_seconds,
            )

        return self._once("_idempotency", build)

    @property
    def verifier(self) -> JwtVerifier:
        if self._verifier is not None:  # every request in jwt mode
            return self._verifier
        s = self.settings

        def build() -> JwtVerifier:
            return JwtVerifier(
                s.jwks_url,
                s.issuer,
                s.cognito_client_id,
                leeway_seconds=s.jwt_leeway_seconds,
                jwks_cache_seconds=s.jwks_cache_seconds,
                refresh_cooldown_seconds=s.jwks_refresh_cooldown_seconds,
            )

        return self._once("_verifier", build)

    def authenticate(
        self, authorization: Optional[str], event: Optional[Mapping[str, Any]]
    ) -> Principal:
        """The caller, from the configured auth mode; records the user as seen."""
        if self.settings.auth_mode == "apigateway":
            found, claims = apigateway_claims(event)
            if not found:
                raise AuthError("no authorizer claims in the request context", token_present=False)
            principal = principal_from_claims(claims, self.settings.cognito_client_id)
        else:
            principal = self.verifier.verify(bearer_token(authorization))
        try:
            self.service.touch_user(principal)
        except Exception:
            # Best effort: the profile catches up on a later request, and
            # /users/me creates it on demand. Never fail a task request for it.
            logger.warning(
                "could not record the user as seen",
                exc_info=True,
                extra={"user_id": principal.user_id, "component": "lambda-sync"},
            )
        return principal

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking (AWS) work: inline on Lambda, in a worker thread under uvicorn."""
        if self.offload:
            from starlette.concurrency import run_in_threadpool

            return await run_in_threadpool(functools.partial(function, *args))
        return function(*args)
