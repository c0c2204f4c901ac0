"""A local stand-in for Lambda's DynamoDB event source mapping.

It polls the table's stream in the emulator (``dynamodbstreams`` API), builds
the exact event payload Lambda would send, invokes the CDC handler in this
process with a fake Lambda context, and reacts to the result the way the real
mapping does:

* shards are read in lineage order (a child only after its parent is done),
  each from ``TRIM_HORIZON`` by default, each with its own checkpoint;
* a batch holds at most ``batch_size`` records of one shard, in order; with a
  ``maximum_batching_window`` the mapping waits up to that long for a full
  batch before it invokes the function with fewer records, as Lambda's
  ``MaximumBatchingWindowInSeconds`` does (``drain()`` does not wait for it);
* ``{"batchItemFailures": [...]}`` checkpoints before the lowest failed
  sequence number and re-delivers from there (an invalid identifier fails the
  whole batch); with bisection on, only the failed record and those after it
  in the batch are retried, as AWS does;
* a raised exception (or a timeout) is a function error: with
  ``bisect_on_error`` the batch is split in two (splitting does not use up a
  retry), otherwise it is retried;
* after ``max_retries`` retries at the same checkpoint the records are
  discarded to an on-failure list (shaped like the on-failure destination's
  message) and the mapping moves on: it never loops forever;
* with a ``tumbling_window`` (``TumblingWindowInSeconds``) each event also
  carries the tumbling-window fields, among them the ``shardId`` its records
  come from (the only way a DynamoDB-stream event names its shard); the
  window's ``state`` is not carried between invocations here.

``drain()`` blocks until everything written to the table before the call has
been handled; the counters in :attr:`StreamRunner.stats` tell what happened.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from todo_core.naming import METRICS_NAMESPACE
from todo_core.stream_records import lambda_event, lambda_record

log = logging.getLogger(__name__)

Handler = Callable[[Dict[str, Any], Any], Any]
DEFAULT_HANDLER = "cdc_processor.handler.lambda_handler"


class DrainTimeout(TimeoutError):
    """drain() ran out of time before the mapping caught up with the stream."""


# --- the Lambda event payload ---------------------------------------------------------


class FakeLambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools use."""

    def __init__(
        self, function_name: str, region: str, timeout_seconds: float, memory_mb: int = 512
    ):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# --- state and results -----------------------------------------------------------------


@dataclass
class RunnerStats:
    """What the mapping has done so far (a snapshot when read via ``stats``)."""

    #: Invocations of the function (one per batch, retries included).
    batches: int = 0
    #: Records the function handled successfully (the checkpoint moved past them).
    records_delivered: int = 0
    #: Records discarded after exhausting retries (see ``on_failure``).
    records_dropped: int = 0
    #: Re-deliveries after a failure (partial or function error).
    retries: int = 0
    #: Invocations that failed: raised, timed out, or reported item failures.
    failures: int = 0
    function_errors: int = 0
    partial_failures: int = 0
    bisections: int = 0
    #: Wall time spent inside the handler, and waiting on GetRecords.
    handler_seconds: float = 0.0
    get_records_seconds: float = 0.0


@dataclass
class DroppedBatch:
    """Records the mapping gave up on, and the on-failure destination's message."""

    shard_id: str
    records: List[Dict[str, Any]]
    reason: str
    attempts: int
    message: Dict[str, Any]

    @property
    def sequence_numbers(self) -> List[str]:
        return [r["dynamodb"]["SequenceNumber"] for r in self.records]


@dataclass
class _Shard:
    shard_id: str
    parent_id: Optional[str]
    iterator: Optional[str] = None
    started: bool = False
    #: GetRecords said the shard is closed and fully read.
    exhausted: bool = False
    #: Fetched but not yet checkpointed (boto3 shapes).
    pending: List[Dict[str, Any]] = field(default_factory=list)
    last_fetched: Optional[str] = None
    checkpoint: Optional[str] = None
    #: Consecutive failed attempts at the current checkpoint.
    attempts: int = 0
    #: Batch sizes forced by bisection, processed before normal batching resumes.
    segments: List[int] = field(default_factory=list)
    not_before: float = 0.0
    #: When the oldest pending record was fetched (for the batching window).
    pending_since: float = 0.0

    @property
    def finished(self) -> bool:
        return self.exhausted and not self.pending


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


# --- the runner ------------------------------------------------------------------------------


class StreamRunner:
    """Event source mapping: DynamoDB stream -> handler, in a background thread or inline."""

    def __init__(
        self,
        streams_client: Any,
        stream_arn: str,
        handler: Union[Handler, str] = DEFAULT_HANDLER,
        *,
        region: str = "us-east-1",
        batch_size: int = 100,
        maximum_batching_window: float = 0.0,
        max_retries: int = 3,
        bisect_on_error: bool = True,
        starting_position: str = "TRIM_HORIZON",
        poll_interval: float = 0.25,
        retry_backoff: float = 0.05,
        max_retry_backoff: float = 1.0,
        shard_refresh_interval: float = 1.0,
        function_name: str = "todo-cdc-processor-local",
        timeout_seconds: float = 60.0,
        environment: Optional[Mapping[str, str]] = None,
        tumbling_window: float = 0.0,
    ) -> None:
        if not 1 <= batch_size <= 10_000:
            raise ValueError("batch_size must be between 1 and 10000")
        if not 0 <= maximum_batching_window <= 300:
            raise ValueError("maximum_batching_window must be between 0 and 300 seconds")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0 (the local mapping never retries forever)")
        if starting_position not in ("TRIM_HORIZON", "LATEST"):
            raise ValueError("starting_position must be TRIM_HORIZON or LATEST")
        self._streams = streams_client
        self.stream_arn = stream_arn
        self._handler_spec = handler
        self._handler: Optional[Handler] = handler if callable(handler) else None
        self.region = region
        self.batch_size = batch_size
        self.maximum_batching_window = maximum_batching_window
        self.max_retries = max_retries
        self.bisect_on_error = bisect_on_error
        self.starting_position = starting_position
        self.poll_interval = poll_interval
        self.retry_backoff = retry_backoff
        self.max_retry_backoff = max_retry_backoff
        self.shard_refresh_interval = shard_refresh_interval
        self.function_name = function_name
        self.timeout_seconds = timeout_seconds
        self.environment = dict(environment or {})
        self.tumbling_window = tumbling_window
        self.on_failure: List[DroppedBatch] = []

        self._stats = RunnerStats()
        self._shards: Dict[str, _Shard] = {}
        self._shard_order: List[str] = []
        self._last_refresh = -1e9
        self._lock = threading.Lock()
        self._caught_up = threading.Condition(self._lock)
        self._drain_ticket = 0
        self._drained_ticket = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._fatal: Optional[BaseException] = None
        self._last_error: Optional[BaseException] = None
        self._saved_environment: Dict[str, Optional[str]] = {}
        self._first_cycle = True

    # --- construction ---------------------------------------------------------------

    @classmethod
    def for_stack(
        cls,
        stack: Any,
        handler: Union[Handler, str] = DEFAULT_HANDLER,
        **options: Any,
    ) -> StreamRunner:
        """A runner for the local stack's table stream and CDC delivery stream.

        The handler sees the environment Pulumi gives the real function, with
        the emulator's endpoint; it is applied to this process while the
        runner runs (the handler runs in this process).
        """
        from todo_local.emulator import REGION, client_environment

        environment = {
            **client_environment(stack.endpoint_url),
            "STAGE": stack.names.stage,
            "FIREHOSE_STREAM_NAME": stack.names.cdc_delivery_stream,
            "POWERTOOLS_SERVICE_NAME": "todo-cdc-processor",
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "LOG_LEVEL": os.environ.get("TODO_LOCAL_CDC_LOG_LEVEL", "WARNING"),
        }
        environment.update(options.pop("environment", None) or {})
        return cls(
            stack.client("dynamodbstreams"),
            stack.stream_arn,
            handler,
            region=REGION,
            function_name=stack.names.cdc_function,
            environment=environment,
            **options,
        )

    # --- lifecycle -----------------------------------------------------------------

    def _apply_environment(self) -> None:
        for key, value in self.environment.items():
            if key not in self._saved_environment:
                self._saved_environment[key] = os.environ.get(key)
            os.environ[key] = value

    def _restore_environment(self) -> None:
        for key, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_environment = {}

    def _resolve_handler(self) -> Handler:
        if self._handler is None:
            module_name, _, function = str(self._handler_spec).rpartition(".")
            module = importlib.import_module(module_name)
            # A new mapping is a new execution environment: drop clients and
            # settings cached by an earlier one (another emulator, maybe).
            reset = getattr(module, "reset_execution_environment", None)
            if callable(reset):
                reset()
            self._handler = getattr(module, function)
        return self._handler

    def start(self) -> StreamRunner:
        """Poll in a background thread until stop()."""
        if self._thread is not None:
            raise RuntimeError("the runner is already running")
        self._apply_environment()
        self._resolve_handler()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stream-runner", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        self._restore_environment()

    def __enter__(self) -> StreamRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stats(self) -> RunnerStats:
        with self._lock:
            return RunnerStats(**self._stats.__dict__)

    @property
    def last_error(self) -> Optional[BaseException]:
        return self._fatal or self._last_error

    # --- draining ------------------------------------------------------------------------

    def drain(self, timeout: float = 30.0) -> None:
        """Block until every record in the stream when called has been handled.

        "Handled" means checkpointed past: delivered, or discarded to
        ``on_failure`` after the retries ran out. Raises :class:`DrainTimeout`
        on timeout and re-raises a failure that stopped the runner.
        """
        deadline = time.monotonic() + timeout
        if self._thread is None:
            self._drain_inline(deadline)
            return
        with self._caught_up:
            self._drain_ticket += 1
            ticket = self._drain_ticket
            while self._drained_ticket < ticket:
                if self._fatal is not None:
                    raise RuntimeError("the stream runner stopped") from self._fatal
                if not self._thread.is_alive():
                    raise RuntimeError("the stream runner thread is not running")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DrainTimeout(self._lag_message(timeout))
                self._caught_up.wait(min(left, 0.5))

    def _drain_inline(self, deadline: float) -> None:
        """drain() without the thread: poll here, in the function's environment."""
        started = time.monotonic()
        self._apply_environment()
        try:
            self._resolve_handler()
            while True:
                if self._cycle(force_refresh=True, draining=True):
                    return
                if time.monotonic() >= deadline:
                    raise DrainTimeout(self._lag_message(deadline - started))
        finally:
            self._restore_environment()

    def run_until_idle(self, timeout: float = 30.0) -> None:
        """Process inline (no thread) until the stream has nothing left."""
        self.drain(timeout)

    def _lag_message(self, timeout: float) -> str:
        pending = {s.shard_id: len(s.pending) for s in self._shards.values() if s.pending}
        message = f"the stream runner did not catch up within {timeout:.1f}s (pending: {pending})"
        if self._last_error is not None:
            message += f"; last error: {self._last_error!r}"
        return message

    # --- the polling loop ------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                ticket = self._drain_ticket
            try:
                draining = ticket > self._drained_ticket
                idle = self._cycle(force_refresh=draining, draining=draining)
            except Exception as exc:  # a bug, not an AWS hiccup: stop and tell drain()
                log.exception("stream runner stopped")
                self._fatal = exc
                with self._caught_up:
                    self._caught_up.notify_all()
                return
            if idle:
                with self._caught_up:
                    self._drained_ticket = max(self._drained_ticket, ticket)
                    self._caught_up.notify_all()
                self._stop.wait(self.poll_interval)

    def _cycle(self, force_refresh: bool = False, draining: bool = False) -> bool:
        """One pass over the shards; True when there was nothing to do anywhere.

        Records held back by the batching window count as nothing to do,
        except while ``draining``: then every pending record is delivered.
        """
        try:
            now = time.monotonic()
            if force_refresh or now - self._last_refresh >= self.shard_refresh_interval:
                self._refresh_shards()
                self._last_refresh = now
            idle = True
            for shard in self._eligible_shards():
                if not self._step(shard, draining):
                    idle = False
            self._first_cycle = False
            self._last_error = None
            return idle
        except Exception as exc:
            if not _error_code(exc) and not _is_connection_error(exc):
                raise
            # The emulator is busy or restarting: say so, back off, go on.
            self._last_error = exc
            log.warning("stream runner: %r; retrying", exc)
            self._stop.wait(min(self.max_retry_backoff, 0.2))
            return False

    def _refresh_shards(self) -> None:
        description: Dict[str, Any] = {}
        shards: List[Dict[str, Any]] = []
        start: Optional[str] = None
        while True:
            kwargs: Dict[str, Any] = {"StreamArn": self.stream_arn}
            if start:
                kwargs["ExclusiveStartShardId"] = start
            description = self._streams.describe_stream(**kwargs)["StreamDescription"]
            shards.extend(description.get("Shards", []))
            start = description.get("LastEvaluatedShardId")
            if not start:
                break
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._shards:
                self._shards[shard_id] = _Shard(shard_id, shard.get("ParentShardId"))
                self._shard_order.append(shard_id)

    def _eligible_shards(self) -> Iterator[_Shard]:
        """Shards whose parent is finished or gone: lineage order, parent before child."""
        for shard_id in self._shard_order:
            shard = self._shards[shard_id]
            if shard.finished:
                continue
            parent = self._shards.get(shard.parent_id) if shard.parent_id else None
            if parent is not None and not parent.finished:
                continue
            yield shard

    def _iterator_for(self, shard: _Shard) -> str:
        kwargs: Dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard.shard_id}
        if shard.last_fetched is not None:
            kwargs.update(
                ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.last_fetched
            )
        elif self.starting_position == "LATEST" and self._first_cycle and shard.parent_id is None:
            kwargs["ShardIteratorType"] = "LATEST"
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        return str(self._streams.get_shard_iterator(**kwargs)["ShardIterator"])

    def _fetch(self, shard: _Shard) -> int:
        if shard.exhausted:
            return 0
        if shard.iterator is None:
            shard.iterator = self._iterator_for(shard)
        started = time.monotonic()
        try:
            page = self._streams.get_records(
                ShardIterator=shard.iterator, Limit=min(self.batch_size, 1000)
            )
        except Exception as exc:
            if _error_code(exc) in ("ExpiredIteratorException", "TrimmedDataAccessException"):
                shard.iterator = None
                return 0
            raise
        finally:
            with self._lock:
                self._stats.get_records_seconds += time.monotonic() - started
        records = page.get("Records", [])
        if records and not shard.pending:
            shard.pending_since = time.monotonic()
        shard.pending.extend(records)
        if records:
            shard.last_fetched = records[-1]["dynamodb"]["SequenceNumber"]
        shard.iterator = page.get("NextShardIterator")
        if shard.iterator is None:
            shard.exhausted = True
        return len(records)

    def _step(self, shard: _Shard, draining: bool = False) -> bool:
        """Fetch and deliver at most one batch of ``shard``; True when it had nothing."""
        if shard.not_before > time.monotonic():
            self._stop.wait(min(shard.not_before - time.monotonic(), self.max_retry_backoff))
            return False
        fetched = 0
        if len(shard.pending) < self.batch_size:
            fetched = self._fetch(shard)
        if not shard.pending:
            # Nothing new (an iterator lost to expiry is not "nothing": retry it).
            return fetched == 0 and (shard.iterator is not None or shard.exhausted)
        size = shard.segments[0] if shard.segments else self.batch_size
        if (
            not draining
            and not shard.segments
            and not shard.exhausted
            and len(shard.pending) < size
            and time.monotonic() - shard.pending_since < self.maximum_batching_window
        ):
            return True  # wait (a poll interval) for a fuller batch or the window's end
        self._deliver(shard, shard.pending[: min(size, len(shard.pending))])
        return False

    # --- one invocation and its outcome ------------------------------------------------------

    def _window_fields(self, shard_id: str) -> Dict[str, Any]:
        """The tumbling-window fields of an event (see the module docstring)."""
        now = dt.datetime.now(dt.timezone.utc)
        start = now - dt.timedelta(seconds=now.timestamp() % self.tumbling_window)
        end = start + dt.timedelta(seconds=self.tumbling_window)
        return {
            "shardId": shard_id,
            "eventSourceARN": self.stream_arn,
            "window": {
                "start": start.isoformat().replace("+00:00", "Z"),
                "end": end.isoformat().replace("+00:00", "Z"),
            },
            "state": {},
            "isFinalInvokeForWindow": False,
            "isWindowTerminatedEarly": False,
        }

    def _invoke(
        self, batch: List[Dict[str, Any]], shard_id: str
    ) -> Tuple[Optional[int], Optional[str]]:
        """Invoke the handler; (index of the first failed record or None, function error)."""
        event = lambda_event(batch, self.stream_arn, self.region)
        if self.tumbling_window:
            event.update(self._window_fields(shard_id))
        context = FakeLambdaContext(self.function_name, self.region, self.timeout_seconds)
        handler = self._resolve_handler()
        started = time.monotonic()
        with self._lock:
            self._stats.batches += 1
        try:
            response = json.loads(json.dumps(handler(event, context)))
        except Exception as exc:
            log.warning("function error on a batch of %d: %r", len(batch), exc)
            return None, f"{type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._stats.handler_seconds += time.monotonic() - started
        if time.monotonic() - started > self.timeout_seconds:
            return None, f"Task timed out after {self.timeout_seconds:.2f} seconds"
        return _first_failure(response, [r["dynamodb"]["SequenceNumber"] for r in batch]), None

    def _deliver(self, shard: _Shard, batch: List[Dict[str, Any]]) -> None:
        failed_at, function_error = self._invoke(batch, shard.shard_id)
        if function_error is None and failed_at is None:
            self._acknowledge(shard, len(batch))
            if shard.segments:
                shard.segments.pop(0)
            return
        with self._lock:
            self._stats.failures += 1
            if function_error is not None:
                self._stats.function_errors += 1
            else:
                self._stats.partial_failures += 1

        if function_error is None:
            assert failed_at is not None
            if failed_at:  # progress: the records before the failure are done
                self._acknowledge(shard, failed_at)
                shard.attempts = 0
            remaining = len(batch) - failed_at
            if self.bisect_on_error:
                # AWS splits at the returned sequence number and retries the rest.
                if shard.segments:
                    shard.segments[0] = remaining
                else:
                    shard.segments.insert(0, remaining)
            self._retry_or_discard(
                shard, remaining, f"batch item failure at index {failed_at}", function_error=False
            )
            return

        if self.bisect_on_error and len(batch) > 1:
            half = len(batch) // 2
            if shard.segments:
                shard.segments[0:1] = [half, len(batch) - half]
            else:
                shard.segments[0:0] = [half, len(batch) - half]
            with self._lock:
                self._stats.bisections += 1
            return
        self._retry_or_discard(shard, len(batch), function_error, function_error=True)

    def _retry_or_discard(
        self, shard: _Shard, count: int, reason: str, function_error: bool
    ) -> None:
        shard.attempts += 1
        if shard.attempts <= self.max_retries:
            with self._lock:
                self._stats.retries += 1
            delay = min(self.max_retry_backoff, self.retry_backoff * 2 ** (shard.attempts - 1))
            shard.not_before = time.monotonic() + delay
            return
        dropped = shard.pending[:count]
        log.error(
            "discarding %d record(s) of shard %s after %d attempts: %s",
            count,
            shard.shard_id,
            shard.attempts,
            reason,
        )
        self.on_failure.append(self._dropped_batch(shard, dropped, reason, function_error))
        with self._lock:
            self._stats.records_dropped += count
        self._advance(shard, count)
        if shard.segments:
            shard.segments.pop(0)

    def _acknowledge(self, shard: _Shard, count: int) -> None:
        with self._lock:
            self._stats.records_delivered += count
        self._advance(shard, count)

    def _advance(self, shard: _Shard, count: int) -> None:
        shard.checkpoint = shard.pending[count - 1]["dynamodb"]["SequenceNumber"]
        del shard.pending[:count]
        shard.attempts = 0
        shard.not_before = 0.0

    def _dropped_batch(
        self, shard: _Shard, records: List[Dict[str, Any]], reason: str, function_error: bool
    ) -> DroppedBatch:
        converted = [lambda_record(r, self.stream_arn, self.region) for r in records]
        times = [r["dynamodb"].get("ApproximateCreationDateTime") for r in converted]

        def iso(epoch: Any) -> Optional[str]:
            if epoch is None:
                return None
            return (
                dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc)
                .isoformat()
                .replace("+00:00", "Z")
            )

        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": FakeLambdaContext(
                    self.function_name, self.region, 0
                ).invoked_function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": shard.attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                **({"functionError": "Unhandled"} if function_error else {}),
            },
            "version": "1.0",
            "timestamp": dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": converted[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": converted[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": iso(times[0]),
                "approximateArrivalOfLastRecord": iso(times[-1]),
                "batchSize": len(converted),
                "streamArn": self.stream_arn,
            },
        }
        return DroppedBatch(shard.shard_id, converted, reason, shard.attempts, message)


def _first_failure(response: Any, sequence_numbers: List[str]) -> Optional[int]:
    """Index of the record to re-deliver from, per the partial-batch response rules.

    Null or empty responses and empty failure lists are success; an item
    without a valid identifier of this batch fails the whole batch (index 0).
    """
    if response is None:
        return None
    if not isinstance(response, dict):
        return 0
    failures = response.get("batchItemFailures")
    if not failures:
        return None
    if not isinstance(failures, list):
        return 0
    positions = {seq: i for i, seq in enumerate(sequence_numbers)}
    first = len(sequence_numbers)
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in positions:
            return 0
        first = min(first, positions[identifier])
    return first


def _is_connection_error(exc: BaseException) -> bool:
    try:
        from botocore.exceptions import BotoCoreError
    except ImportError:  # pragma: no cover - botocore comes with boto3
        return False
    return isinstance(exc, (BotoCoreError, ConnectionError))
