"""Plumbing shared by the repositories: calls, transactions, counters.

Throttling and unreachable endpoints become :class:`StoreUnavailable`;
transaction conflicts with other writers (a user's task count, an activity
marker) are retried with jitter and never surface as errors.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any, Callable, Dict, List, Mapping, Sequence

from todo_core.errors import StoreUnavailable

#: Write retries when DynamoDB reports a transaction conflict (two writers on
#: the same item: a user's task count, an activity marker).
MAX_WRITE_ATTEMPTS = 4

_THROTTLING_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


def iso(value: dt.datetime) -> str:
    return (
        value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    )


def error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _is_connection_error(exc: Exception) -> bool:
    # Imported here: only failures pay for it, and todo_core imports stay light.
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    return isinstance(exc, (BotoConnectionError, HTTPClientError))


def _cancellation_codes(exc: Exception) -> List[str]:
    response = getattr(exc, "response", None) or {}
    reasons = response.get("CancellationReasons")
    if reasons:
        return [str(r.get("Code", "None")) for r in reasons]
    # Some emulators only put the reasons in the message: "... [A, B, C]".
    message = str(response.get("Error", {}).get("Message", ""))
    if "[" in message and message.endswith("]"):
        return [c.strip() for c in message[message.rindex("[") + 1 : -1].split(",")]
    return []


class Table:
    """One DynamoDB table through boto3's low-level client."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.name = table_name

    def call(self, operation: str, **kwargs: Any) -> Dict[str, Any]:
        try:
            result: Dict[str, Any] = getattr(self.client, operation)(**kwargs)
            return result
        except Exception as exc:
            if error_code(exc) in _THROTTLING_CODES:
                raise StoreUnavailable(f"DynamoDB {operation} throttled") from exc
            if _is_connection_error(exc):
                raise StoreUnavailable(f"DynamoDB unreachable during {operation}") from exc
            raise

    def write(
        self, operation: str, conflict: Callable[[], Exception], **kwargs: Any
    ) -> Dict[str, Any]:
        """A conditional single-item write; a failed condition raises ``conflict()``."""
        try:
            return self.call(operation, **kwargs)
        except StoreUnavailable:
            raise
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise conflict() from exc
            raise

    def transact(
        self,
        actions: Sequence[Dict[str, Any]],
        conflicts: Mapping[int, Callable[[], Exception]],
    ) -> None:
        """Run a transaction; a failed condition of action ``i`` raises ``conflicts[i]()``.

        Transaction conflicts with other writers are retried with jittered
        backoff; throttling is :class:`StoreUnavailable`.
        """
        for attempt in range(MAX_WRITE_ATTEMPTS):
            try:
                self.call("transact_write_items", TransactItems=list(actions))
                return
            except StoreUnavailable:
                raise
            except Exception as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                codes = _cancellation_codes(exc)
                for index, code in enumerate(codes):
                    if code == "ConditionalCheckFailed" and index in conflicts:
                        raise conflicts[index]() from exc
                if any(c in ("ThrottlingError", "ProvisionedThroughputExceeded") for c in codes):
                    raise StoreUnavailable("DynamoDB transaction throttled") from exc
                if attempt == MAX_WRITE_ATTEMPTS - 1:
                    raise StoreUnavailable("DynamoDB transaction conflicts persisted") from exc
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
