"""Idempotent writes with the ``Idempotency-Key`` header (IETF httpapi draft).

Built on Powertools' Idempotency utility (its orchestration: in-progress
marker, completion record, payload validation, deletion of the marker when
the operation raises). This module adds what an HTTP API needs on top:

* keys are scoped to the caller: the record is ``IDEMPOTENCY#<user>#<key>``
  (spelled by ``todo_core.keys.idempotency_key``, escaped), so two users can
  use the same key without ever seeing each other's responses;
* the request fingerprint is the method, the path, the If-Match header and the
  validated body: the same key with a different request is 422;
* the same key while the first request is in flight is 409;
* the stored outcome (status, Location, the task id or the problem type; never
  the task's content) is replayed with ``Idempotent-Replayed: true``, the
  body rebuilt from the task as it is now;
* a create also writes a claim in its own transaction, so a re-run after a
  lost answer, a failed completion write or a timeout finds the task it made
  instead of making a second one;
* a request that ends in a server error raises, so Powertools deletes the
  in-progress marker and a retry runs again; client errors the operation
  decides (404, 412) are results and are replayed like successes;
* records expire through DynamoDB TTL on ``todo_core.keys.TTL_ATTRIBUTE``
  after ``IDEMPOTENCY_TTL_SECONDS`` (24 h by default); an in-flight marker of
  a request that died expires after the invocation's remaining time.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from todo_api.observability import logger
from todo_core import keys
from todo_core.ports import CreateClaim

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
#: Visible ASCII without quotes or backslash (a structured-field token or the
#: inside of an sf-string): what clients put in practice, UUIDs included.
_KEY_RE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")


class MalformedIdempotencyKey(ValueError):
    pass


class IdempotencyConflict(Exception):
    """The same key is already being processed (409)."""


class IdempotencyKeyReused(Exception):
    """The same key was used with a different request (422)."""


class IdempotencyStoreError(Exception):
    """The idempotency records could not be read or written (503)."""


def parse_idempotency_key(value: Optional[str]) -> Optional[str]:
    """The key of an ``Idempotency-Key`` header, or None when absent.

    The draft defines the value as a structured-field String
    (``"8e03978e-..."``); many clients send it bare (``task-creation-123``, as
    the operations runbook does). Both are accepted; anything else is
    malformed.
    """
    if value is None:
        return None
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        value = value[1:-1]
    if not value:
        raise MalformedIdempotencyKey("the Idempotency-Key header is empty")
    if len(value) > MAX_KEY_LENGTH:
        raise MalformedIdempotencyKey(
            f"the Idempotency-Key is longer than {MAX_KEY_LENGTH} characters"
        )
    if not _KEY_RE.match(value):
        raise MalformedIdempotencyKey("the Idempotency-Key must be visible ASCII characters")
    return value


def record_id(user_id: str, key: str) -> str:
    """The caller-scoped record id; injective in (user, key)."""
    return f"{keys.escape(user_id)}#{keys.escape(key)}"


@dataclass(frozen=True)
class Outcome:
    """What a write decided, as its idempotency record keeps it.

    No task content is stored (records outlive deletions, and end up in
    backups): a replay rebuilds the body from the task itself (``task_id``)
    or from the problem type (``problem``, the slug of a decided client
    error such as 404 or 412).
    """

    status: int
    headers: Dict[str, str] = field(default_factory=dict)
    task_id: Optional[str] = None
    problem: Optional[str] = None

    def to_record(self) -> Dict[str, Any]:
        record: Dict[str, Any] = {"status": self.status, "headers": dict(self.headers)}
        if self.task_id is not None:
            record["task_id"] = self.task_id
        if self.problem is not None:
            record["problem"] = self.problem
        return record

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Outcome:
        task_id, problem = data.get("task_id"), data.get("problem")
        return cls(
            status=int(data["status"]),
            headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
            task_id=task_id if isinstance(task_id, str) else None,
            problem=problem if isinstance(problem, str) else None,
        )


def request_fingerprint(fingerprint: Mapping[str, Any]) -> str:
    """A stable digest of a request's identifying parts (method, path, If-Match, body)."""
    text = json.dumps(fingerprint, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CompletionTolerantStore:
    """Mixed into a Powertools persistence layer: a failed completion write is not an error.

    When the operation succeeded and only storing its outcome fails (the table
    throttled), the client gets the real result, not a 503 for a change that
    was made. The in-progress marker is then removed (best effort) so a retry
    runs again: a create meets its claim and is answered as a replay; an
    update applies the same change again.
    """

    def save_success(self, data: Dict[str, Any], result: Dict[str, Any]) -> None:
        try:
            super().save_success(data, result)  # type: ignore[misc]
        except Exception as exc:
            logger.warning(
                "could not store the outcome of an idempotent request",
                exc_info=True,
                extra={"component": "lambda-sync"},
            )
            try:
                super().delete_record(data, exc)  # type: ignore[misc]
            except Exception:
                logger.warning(
                    "could not remove the in-progress marker; it expires on its own",
                    exc_info=True,
                    extra={"component": "lambda-sync"},
                )


class InFlightWindow:
    """Duck-typed Lambda context: how long a request may hold its key."""

    def __init__(self, milliseconds: int) -> None:
        self._deadline = time.monotonic() + milliseconds / 1000.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Idempotency:
    """Runs operations at most once per (caller, key) within the TTL window."""

    def __init__(self, store: Any, ttl_seconds: int = 86400, in_flight_seconds: int = 30) -> None:
        """``store``: a Powertools persistence layer keyed by our record ids."""
        self._store = store
        self._ttl_seconds = ttl_seconds
        self._in_flight_ms = in_flight_seconds * 1000

    @classmethod
    def dynamodb(
        cls, client: Any, table_name: str, ttl_seconds: int = 86400, in_flight_seconds: int = 30
    ) -> Idempotency:
        """Records in the single table (see :mod:`todo_api.idempotency_store`)."""
        # Powertools' idempotency package imports boto3; load it with the
        # first idempotent request, not with the handler (cold start).
        from todo_api.idempotency_store import TodoIdempotencyStore

        return cls(
            TodoIdempotencyStore(table_name=table_name, client=client),
            ttl_seconds,
            in_flight_seconds,
        )

    def claim(self, user_id: str, key: str, fingerprint: Mapping[str, Any]) -> CreateClaim:
        """The create claim of this request (written with the task it creates)."""
        return CreateClaim(
            request_id=record_id(user_id, key),
            fingerprint=request_fingerprint(fingerprint),
            expires_at=int(time.time()) + self._ttl_seconds,
        )

    def run(
        self,
        user_id: str,
        key: str,
        fingerprint: Mapping[str, Any],
        operation: Callable[[], Outcome],
        lambda_context: Any = None,
    ) -> Tuple[Outcome, bool]:
        """The operation's outcome and whether it is a replay of an earlier run."""
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
        from aws_lambda_powertools.utilities.idempotency.base import IdempotencyHandler
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        remaining = self._in_flight_ms
        if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
            remaining = min(remaining, int(lambda_context.get_remaining_time_in_millis()))
        config = IdempotencyConfig(
            event_key_jmespath="record",
            payload_validation_jmespath="fingerprint",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=self._ttl_seconds,
            hash_function="sha256",
            lambda_context=InFlightWindow(remaining),  # type: ignore[arg-type]
            response_hook=lambda response, _record: {**response, "replayed": True},
        )
        handler = IdempotencyHandler(
            function=lambda: operation().to_record(),
            function_payload={"record": record_id(user_id, key), "fingerprint": dict(fingerprint)},
            config=config,
            persistence_store=self._store,
            function_args=(),
            function_kwargs={},
        )
        try:
            result = handler.handle()
        except IdempotencyAlreadyInProgressError as exc:
            raise IdempotencyConflict(str(exc)) from exc
        except IdempotencyValidationError as exc:
            raise IdempotencyKeyReused(str(exc)) from exc
        except IdempotencyPersistenceLayerError as exc:
            raise IdempotencyStoreError(str(exc)) from exc
        return Outcome.from_record(result), bool(result.get("replayed"))
