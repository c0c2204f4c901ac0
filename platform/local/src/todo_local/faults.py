"""Fault injection for Firehose clients, through botocore's event hooks.

The emulator's Firehose never fails; AWS's does, routinely: a
``PutRecordBatch`` call can be throttled as a whole, or succeed with some
entries rejected (``FailedPutCount > 0``, each rejected entry carrying an
``ErrorCode``). :class:`FirehoseFaults` makes one boto3 client see both, at
chosen rates, without patching anything:

* ``before-parameter-build`` draws the call's fate; rejected entries are
  taken out of the request, so the emulator never stores them;
* ``before-call`` answers a throttled call itself (no request is sent);
* ``after-call`` puts the rejected entries back into the response, at their
  positions, with an ``ErrorCode``, and raises ``FailedPutCount``.

So what reaches the delivery stream is exactly what the response says was
accepted, as with the real service.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

_EVENT = "{}.firehose.PutRecordBatch"
_STATE = "todo_local_fault"


@dataclass
class FaultCounts:
    calls: int = 0
    throttled_calls: int = 0
    rejected_entries: int = 0
    accepted_entries: int = 0


class _Response:
    """The bits of botocore's AWSResponse that the client reads."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: Dict[str, str] = {}
        self.content = b""
        self.text = ""
        self.raw = None
        self.url = ""


class FirehoseFaults:
    """Throttle calls and reject entries of one Firehose client, at random but reproducibly."""

    def __init__(
        self,
        call_failure_rate: float = 0.0,
        entry_failure_rate: float = 0.0,
        seed: Optional[int] = None,
        call_error_code: str = "ServiceUnavailableException",
        entry_error_code: str = "ServiceUnavailableException",
    ) -> None:
        for name, rate in (
            ("call_failure_rate", call_failure_rate),
            ("entry_failure_rate", entry_failure_rate),
        ):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        self.call_failure_rate = call_failure_rate
        self.entry_failure_rate = entry_failure_rate
        self.call_error_code = call_error_code
        self.entry_error_code = entry_error_code
        self.counts = FaultCounts()
        self._random = random.Random(seed)
        self._client: Any = None

    # --- installation ---------------------------------------------------------

    def install(self, client: Any) -> FirehoseFaults:
        if self._client is not None:
            raise RuntimeError("already installed")
        events = client.meta.events
        events.register(
            _EVENT.format("before-parameter-build"), self._draw, unique_id=self._id("draw")
        )
        events.register(
            _EVENT.format("before-call"), self._short_circuit, unique_id=self._id("call")
        )
        events.register(_EVENT.format("after-call"), self._merge, unique_id=self._id("merge"))
        self._client = client
        return self

    def uninstall(self) -> None:
        if self._client is None:
            return
        events = self._client.meta.events
        events.unregister(_EVENT.format("before-parameter-build"), unique_id=self._id("draw"))
        events.unregister(_EVENT.format("before-call"), unique_id=self._id("call"))
        events.unregister(_EVENT.format("after-call"), unique_id=self._id("merge"))
        self._client = None

    def __enter__(self) -> FirehoseFaults:
        return self

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def _id(self, hook: str) -> str:
        return f"todo-local-faults-{id(self)}-{hook}"

    # --- the hooks -----------------------------------------------------------------

    def _draw(self, params: Dict[str, Any], context: Dict[str, Any], **_: Any) -> None:
        self.counts.calls += 1
        records: List[Any] = params.get("Records", [])
        if self._random.random() < self.call_failure_rate:
            context[_STATE] = ("throttle", [], len(records))
            return
        rejected = [
            i for i in range(len(records)) if self._random.random() < self.entry_failure_rate
        ]
        if len(rejected) == len(records):
            # A request needs at least one record: reject everything as a throttle.
            context[_STATE] = ("throttle", [], len(records))
            return
        if rejected:
            skip = set(rejected)
            params["Records"] = [r for i, r in enumerate(records) if i not in skip]
        context[_STATE] = ("partial", rejected, len(records))

    def _short_circuit(
        self, context: Dict[str, Any], **_: Any
    ) -> Optional[Tuple[Any, Dict[str, Any]]]:
        state = context.get(_STATE)
        if not state or state[0] != "throttle":
            return None
        self.counts.throttled_calls += 1
        return _Response(503), {
            "Error": {"Code": self.call_error_code, "Message": "injected by FirehoseFaults"},
            "ResponseMetadata": {"HTTPStatusCode": 503},
        }

    def _merge(
        self, parsed: Dict[str, Any], context: Dict[str, Any], http_response: Any, **_: Any
    ) -> None:
        state = context.pop(_STATE, None)
        if not state or state[0] != "partial" or http_response.status_code >= 300:
            return
        _, rejected, total = state
        accepted = iter(parsed.get("RequestResponses", []))
        skip = set(rejected)
        responses = []
        for index in range(total):
            if index in skip:
                responses.append(
                    {
                        "ErrorCode": self.entry_error_code,
                        "ErrorMessage": "injected by FirehoseFaults",
                    }
                )
            else:
                responses.append(next(accepted))
        parsed["RequestResponses"] = responses
        parsed["FailedPutCount"] = int(parsed.get("FailedPutCount", 0)) + len(rejected)
        self.counts.rejected_entries += len(rejected)
        self.counts.accepted_entries += total - len(rejected)
