"""Test helpers for the integration tests: a settable clock and an operation log."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, List


class FakeClock:
    """A settable clock for the repository (timestamps, activity days)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


class OperationLog:
    """Every operation a boto3 client sends, recorded by a botocore event hook
    (nothing is patched: the request still goes to the emulator)."""

    def __init__(self, client: Any) -> None:
        self.operations: List[str] = []
        self._lock = threading.Lock()
        self._client = client
        client.meta.events.register("before-call.dynamodb", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.operations.append(model.name)

    def clear(self) -> None:
        with self._lock:
            self.operations.clear()

    def close(self) -> None:
        self._client.meta.events.unregister("before-call.dynamodb", self._record)
