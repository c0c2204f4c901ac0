"""Deliver payloads to a Firehose delivery stream, losing none silently.

``PutRecordBatch`` can succeed as a call and still reject some entries
(``FailedPutCount > 0``, each rejected entry carrying an ``ErrorCode``); it can
also fail as a whole (throttling, service unavailable, connection errors). In
both cases exactly the entries not yet accepted are sent again, with
exponential backoff and full jitter, for as long as the invocation's remaining
time allows (never starting a call without time for its worst case).
Whatever is still not accepted is returned to the caller, index by index, so
it can be reported as a batch item failure.

This is the only retry layer: the boto3 client is created with botocore's own
retries switched off, so attempts are counted (and tested) in one place.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from cdc_processor.limits import MAX_BYTES_PER_CALL, MAX_RECORDS_PER_CALL, chunk_by_limits

#: Whole-call errors worth retrying: throttling, service-side faults, timeouts.
RETRYABLE_ERROR_CODES = frozenset(
    {
        "ServiceUnavailableException",
        "ThrottlingException",
        "Throttling",
        "LimitExceededException",
        "InternalFailure",
        "InternalFailureException",
        "InternalServerError",
        "InternalServerErrorException",
        "ServiceUnavailable",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


#: How long one PutRecordBatch may take at worst: the client's connect and
#: read timeouts (``handler.firehose_client``), retries off.
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 10
WORST_CALL_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
#: Attempts per chunk when there is no deadline to bound them (tests, redrive).
ATTEMPTS_WITHOUT_DEADLINE = 6


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter (AWS architecture blog style),
    bounded by the invocation's remaining time.

    With a deadline, retries go on as long as an attempt can still start with
    ``deadline_margin_seconds`` left: at least one call's worst case (connect
    + read timeout) plus a second to return the partial-batch response. A
    Firehose outage is ridden out for most of the invocation (about 45 s of a
    60 s timeout), not for a fixed number of attempts that runs out in about
    1.5 s; what is still not accepted then is reported and the event source
    mapping retries it. ``max_attempts`` (None: as many as the time allows)
    caps attempts; without a deadline it defaults to ``ATTEMPTS_WITHOUT_DEADLINE``.
    """

    max_attempts: Optional[int] = None
    base_seconds: float = 0.05
    cap_seconds: float = 2.0
    #: Never start an attempt with less than this left before the deadline.
    deadline_margin_seconds: float = WORST_CALL_SECONDS + 1.0

    def attempts(self, has_deadline: bool) -> Optional[int]:
        """The cap on attempts per chunk (None: only the deadline bounds them)."""
        if self.max_attempts is not None:
            return self.max_attempts
        return None if has_deadline else ATTEMPTS_WITHOUT_DEADLINE

    def backoff(self, retry: int, rand: Callable[[], float]) -> float:
        """Sleep before retry number ``retry`` (1-based)."""
        return rand() * min(self.cap_seconds, self.base_seconds * (2 ** (retry - 1)))


@dataclass
class DeliveryReport:
    """What happened to one list of payloads."""

    #: Index -> why it was not accepted (an ErrorCode or exception summary).
    failed: Dict[int, str] = field(default_factory=dict)
    #: Entries sent again after a rejection or a failed call.
    retried: int = 0
    calls: int = 0


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


def _is_retryable(exc: Exception) -> bool:
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return _error_code(exc) in RETRYABLE_ERROR_CODES or int(status or 0) >= 500
    # Connection resets, read timeouts, endpoint errors: the call may not have
    # reached Firehose; re-sending can only duplicate, never lose.
    return isinstance(exc, BotoCoreError)


class FirehoseDelivery:
    """Sends payloads with ``PutRecordBatch``, honouring the API limits.

    ``remaining_seconds`` tells how long the invocation may still run (from the
    Lambda context); ``None`` means no deadline.
    """

    def __init__(
        self,
        client: Any,
        stream_name: str,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        max_records: int = MAX_RECORDS_PER_CALL,
        max_bytes: int = MAX_BYTES_PER_CALL,
    ) -> None:
        self._client = client
        self._stream = stream_name
        self._policy = policy
        self._sleep = sleep
        self._rand = rand
        self._max_records = max_records
        self._max_bytes = max_bytes

    def deliver(
        self,
        payloads: Sequence[bytes],
        remaining_seconds: Optional[Callable[[], float]] = None,
    ) -> DeliveryReport:
        report = DeliveryReport()
        for chunk in chunk_by_limits(
            [len(p) for p in payloads], self._max_records, self._max_bytes
        ):
            self._deliver_chunk(payloads, list(chunk), report, remaining_seconds)
        return report

    def _out_of_time(self, pause: float, remaining_seconds: Optional[Callable[[], float]]) -> bool:
        if remaining_seconds is None:
            return False
        return remaining_seconds() - pause < self._policy.deadline_margin_seconds

    def _deliver_chunk(
        self,
        payloads: Sequence[bytes],
        pending: List[int],
        report: DeliveryReport,
        remaining_seconds: Optional[Callable[[], float]],
    ) -> None:
        reasons: Dict[int, str] = {}
        cap = self._policy.attempts(remaining_seconds is not None)
        attempt = -1
        while cap is None or attempt + 1 < cap:
            attempt += 1
            # Every attempt, a chunk's first included (an earlier chunk may
            # have used the time), starts only with time for its worst case.
            pause = self._policy.backoff(attempt, self._rand) if attempt else 0.0
            if self._out_of_time(pause, remaining_seconds):
                for index in pending:
                    reasons[index] = reasons.get(index, "NotAttempted") + " (deadline reached)"
                break
            if attempt:
                self._sleep(pause)
                report.retried += len(pending)
            report.calls += 1
            try:
                response = self._client.put_record_batch(
                    DeliveryStreamName=self._stream,
                    Records=[{"Data": payloads[i]} for i in pending],
                )
            except (ClientError, BotoCoreError) as exc:
                code = _error_code(exc)
                for index in pending:
                    reasons[index] = code
                if not _is_retryable(exc):
                    break
                continue
            if not response.get("FailedPutCount"):
                pending = []
                break
            results = response.get("RequestResponses") or []
            if len(results) != len(pending):
                # A malformed answer says nothing about which entries landed:
                # re-send them all (duplicates, never losses).
                for index in pending:
                    reasons[index] = "MalformedResponse"
                continue
            still: List[int] = []
            for index, result in zip(pending, results):
                if result.get("ErrorCode"):
                    reasons[index] = str(result["ErrorCode"])
                    still.append(index)
            pending = still
            if not pending:
                break
        for index in pending:
            report.failed[index] = reasons.get(index, "NotAttempted").strip()
