"""Bronze objects fetched, parsed and transformed ahead of the job, on a few threads.

Parsing JSON is most of a run's work, and the Arrow transforms
(:func:`todo_silver.transform.transform_events`) most of the rest. pyarrow's
JSON reader and compute kernels release the GIL, so objects handled on two
threads take about half the time on two cores. Memory stays bounded: an
object is only started while the objects started but not yet taken by the
job add up to less than ``max_bytes`` of JSON (at least one object is always
in flight).
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Deque, Iterable, Optional, Tuple, Union

from todo_silver.bronze import BronzeObject, BronzeSource, decompress, expanded_size
from todo_silver.logs import ParsedLogs, parse_request_logs
from todo_silver.parse import ParsedEvents, parse_change_events, reader_threads
from todo_silver.staging import StagingArea
from todo_silver.transform import SilverRows, transform_events


@dataclass
class PreparedEvents:
    """A change-event object, parsed and transformed where Arrow could.

    ``rows.events`` is None when the task_events rows went to the staging
    area already (``staged``), or when Arrow declined them (see
    :class:`todo_silver.transform.SilverRows`).
    """

    parsed: ParsedEvents
    rows: SilverRows = field(default_factory=SilverRows)
    staged: bool = False


Parsed = Union[PreparedEvents, ParsedLogs]


def parse_object(
    source: BronzeSource,
    obj: BronzeObject,
    staging: Optional[StagingArea] = None,
    use_threads: bool = True,
) -> Parsed:
    """Fetch, decompress, parse and transform one bronze object (the bytes are
    dropped here); its task_events rows go to ``staging`` when given.
    ``use_threads``: see :func:`todo_silver.parse.reader_threads`."""
    data = decompress(source.read(obj.key))
    if obj.kind != "cdc":
        return parse_request_logs(data)
    parsed = parse_change_events(data, use_threads)
    del data
    out = PreparedEvents(parsed)
    if parsed.table is not None:
        out.rows = transform_events(parsed.table)
        if staging is not None and out.rows.events is not None:
            staging.add(out.rows.events)
            out.rows.events, out.staged = None, True
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
        staging: Optional[StagingArea] = None,
    ) -> None:
        self._source = source
        self._staging = staging
        self._todo: Deque[BronzeObject] = deque(objects)
        self._pending: Deque[Tuple[BronzeObject, Future]] = deque()
        self._in_flight = 0
        self._max_bytes = max(1, max_bytes)
        self._reader_threads = reader_threads(max(1, threads))
        # Even one thread helps: the job transforms a chunk while the next parses.
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="parse")

    def _fill(self) -> None:
        while self._todo and (
            not self._pending or self._in_flight + expanded_size(self._todo[0]) <= self._max_bytes
        ):
            obj = self._todo.popleft()
            future = self._pool.submit(
                parse_object, self._source, obj, self._staging, self._reader_threads
            )
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
