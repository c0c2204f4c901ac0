"""Bronze objects fetched, parsed and transformed ahead of the job, on a few threads.

Parsing JSON is most of a run's work, and the column transforms of
:mod:`todo_silver.fastpath` most of the rest. pyarrow's JSON reader and
compute kernels release the GIL, so objects handled on two threads take
about half the time on two cores. Memory stays bounded: an object is only started while the
objects started but not yet taken by the job add up to less than
``max_bytes`` of JSON (at least one object is always in flight).
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Deque, Iterable, Optional, Tuple, Union

import pyarrow as pa

from todo_silver import fastpath
from todo_silver.bronze import BronzeObject, BronzeSource, decompress, expanded_size
from todo_silver.logs import ParsedLogs, parse_request_logs
from todo_silver.parse import ParsedEvents, parse_change_events
from todo_silver.staging import Stage

TASK_KEY = ("user_id", "task_id")


@dataclass
class PreparedEvents:
    """A change-event object, parsed, and transformed where the fast path could.

    ``events`` (task_events rows), ``tasks`` (the latest task state rows) and
    ``users`` (the latest user state rows) are None when the SQL must do it;
    ``staged``: the task_events rows are already in the stage (then ``events``
    is None too).
    """

    parsed: ParsedEvents
    staged: bool = False
    events: Optional[pa.Table] = None
    tasks: Optional[pa.Table] = None
    users: Optional[pa.Table] = None


Parsed = Union[PreparedEvents, ParsedLogs]


def parse_object(source: BronzeSource, obj: BronzeObject, stage: Optional[Stage] = None) -> Parsed:
    """Fetch, decompress, parse and transform one bronze object (the bytes are
    dropped here); its task_events rows go to ``stage`` when given."""
    data = decompress(source.read(obj.key))
    if obj.kind != "cdc":
        return parse_request_logs(data)
    parsed = parse_change_events(data)
    del data
    out = PreparedEvents(parsed)
    if parsed.table is not None:
        out.events = fastpath.task_events(parsed.table)
        if out.events is not None:
            out.events = fastpath.plain_lists(out.events)
            out.tasks = fastpath.latest(fastpath.task_state_rows(out.events), TASK_KEY)
            if stage is not None:
                stage.add(out.events)
                out.events, out.staged = None, True
        out.users = fastpath.user_states(parsed.table)
    return out


class ParsePool:
    """Yields the parsed objects in the order given, ``threads`` at a time.

    Use as a context manager; :meth:`take` must be called with the objects in
    the order they were given.
    """

    def __init__(
        self,
        source: BronzeSource,
        objects: Iterable[BronzeObject],
        threads: int = 2,
        max_bytes: int = 32 << 20,
        stage: Optional[Stage] = None,
    ) -> None:
        self._source = source
        self._stage = stage
        self._todo: Deque[BronzeObject] = deque(objects)
        self._pending: Deque[Tuple[BronzeObject, Future]] = deque()
        self._in_flight = 0
        self._max_bytes = max(1, max_bytes)
        # Even one thread helps: the job transforms a chunk while the next parses.
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="parse")

    def _fill(self) -> None:
        while self._todo and (
            not self._pending or self._in_flight + expanded_size(self._todo[0]) <= self._max_bytes
        ):
            obj = self._todo.popleft()
            future = self._pool.submit(parse_object, self._source, obj, self._stage)
            self._pending.append((obj, future))
            self._in_flight += expanded_size(obj)

    def take(self, expected: BronzeObject) -> Parsed:
        self._fill()
        if not self._pending:
            raise LookupError(f"{expected.key} was not scheduled")
        obj, future = self._pending.popleft()
        if obj.key != expected.key:
            raise LookupError(f"expected {expected.key}, next is {obj.key}")
        try:
            result: Parsed = future.result()
        finally:
            self._in_flight -= expanded_size(obj)
        self._fill()
        return result

    def close(self) -> None:
        for _, future in self._pending:
            future.cancel()
        self._pending.clear()
        self._todo.clear()
        self._pool.shutdown(wait=True)

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
