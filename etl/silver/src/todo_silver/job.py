"""The silver job: bronze change events and request logs -> silver tables.

Run by Glue (Python shell) as this module's ``main`` with Glue's arguments,
or locally, identically, as ``python -m todo_silver.job --BRONZE_BUCKET ...
--SILVER_BUCKET ... --DATABASE_NAME ...`` (``AWS_ENDPOINT_URL`` aims it at the
emulator). See the package README for the design.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

# Every run writes the catalog through awswrangler (todo_silver.catalog
# imports it on first use, so readers of the lake never pay for it); importing
# it, pandas included, takes seconds, paid here with the interpreter's
# start-up rather than in the middle of a run.
import awswrangler  # noqa: F401
import pyarrow as pa
import pyarrow.compute as pc

from todo_core import lake
from todo_silver import columns as C
from todo_silver import fastpath
from todo_silver.bronze import BronzeObject, BronzeSource, chunked, open_source
from todo_silver.lakeio import LakeStore
from todo_silver.logs import KEY as REQUEST_KEY
from todo_silver.manifest import Manifest
from todo_silver.observability import log, publish_metrics
from todo_silver.parse import Rejected
from todo_silver.prefetch import ParsePool, PreparedEvents
from todo_silver.settings import SilverSettings
from todo_silver.staging import ORDINAL, Stage
from todo_silver.transform import drop_empty_columns, latest_sql, task_events_sql, users_sql
from todo_silver.workspace import Workspace, unify

TASK_KEY = ("user_id", "task_id")
#: A change: the item's key and its sequence number.
EVENT_KEY = ("user_id", "task_id", "sequence_number")
USER_KEY = ("user_id",)
#: Partitions merged per write when rebuilding current state.
STATE_PARTITIONS_PER_WRITE = 64
METRIC_NAMES = {
    "bronze_objects": "SilverBronzeObjects",
    "events_read": "SilverEventsRead",
    "events_written": "SilverEventsWritten",
    "events_quarantined": "SilverEventsQuarantined",
    "duplicates_dropped": "SilverDuplicatesDropped",
    "requests_written": "SilverRequestsWritten",
    "tasks_written": "SilverTaskStatesWritten",
    "users_written": "SilverUserStatesWritten",
}


@dataclass
class RunCounts:
    bronze_objects: int = 0
    events_read: int = 0
    events_valid: int = 0
    events_written: int = 0
    events_quarantined: int = 0
    duplicates_dropped: int = 0
    user_changes: int = 0
    requests_read: int = 0
    requests_written: int = 0
    requests_quarantined: int = 0
    log_records_skipped: int = 0
    tasks_written: int = 0
    users_written: int = 0
    rechecked_by_model: int = 0
    #: Events whose images were unusual enough to be transformed by the SQL.
    transformed_by_sql: int = 0


class SimulatedCrash(RuntimeError):
    """Raised by tests' fault injection; never by the job itself."""


class SilverJob:
    def __init__(self, settings: SilverSettings, source: Optional[BronzeSource] = None) -> None:
        self.settings = settings
        self.silver = LakeStore(settings.silver_bucket, settings.database_name)
        self.source = source or open_source(settings.bronze_bucket)
        self.manifest = Manifest(self.silver)
        self.counts = RunCounts()
        self.phases: Dict[str, float] = {}
        now = dt.datetime.now(dt.timezone.utc)
        self.run_id = now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]

    # --- the run ------------------------------------------------------------------
    def run(self) -> RunCounts:
        started = time.monotonic()
        if self.settings.full_refresh:
            with self._phase("full_refresh_reset"):
                self._reset()
        done = self.manifest.processed()
        todo = [o for o in self.source.list() if o.key not in done]
        self.counts.bronze_objects = len(todo)
        log(
            "INFO",
            "silver run started",
            run_id=self.run_id,
            new_objects=len(todo),
            already_processed=len(done),
            bronze=self.source.location,
        )
        with Workspace(self.settings.duckdb_memory_mb) as ws:
            stages = _Stages(ws.directory)
            with ParsePool(
                self.source,
                todo,
                self.settings.parse_threads,
                self.settings.chunk_bytes,
                stages.events,
            ) as pool:
                self._read(ws, todo, pool, stages)
            self._publish(stages)
        self._before_commit()
        with self._phase("commit"):
            self.manifest.commit(self.run_id, [o.key for o in todo], asdict(self.counts))
            self.manifest.compact(self.run_id)
        elapsed = time.monotonic() - started
        log(
            "INFO",
            "silver run complete",
            run_id=self.run_id,
            seconds=round(elapsed, 3),
            counts=asdict(self.counts),
            phase_seconds=self.phases,
        )
        if self.settings.publish_metrics:
            values = {m: float(getattr(self.counts, f)) for f, m in METRIC_NAMES.items()}
            values["SilverRunSeconds"] = elapsed
            publish_metrics(
                "silver",
                values,
                self.settings.stage,
                self.settings.metrics_namespace,
                units={"SilverRunSeconds": "Seconds"},
            )
        return self.counts

    def _before_commit(self) -> None:
        """Outputs are durable, the manifest is not yet: tests inject crashes here."""

    def _reset(self) -> None:
        log("INFO", "full refresh: dropping silver tables and the manifest", run_id=self.run_id)
        for table in lake.SILVER_TABLES:
            self.silver.drop_table(table)
        self.silver.delete_keys(self.silver.list_keys(lake.QUARANTINE_PREFIX))
        self.manifest.reset()

    # --- reading bronze, one chunk at a time ---------------------------------------------
    def _read(
        self, ws: Workspace, todo: List[BronzeObject], pool: ParsePool, stages: _Stages
    ) -> None:
        for number, chunk in enumerate(chunked(todo, self.settings.chunk_bytes), 1):
            with self._phase("read_and_stage"):
                self._chunk(ws, chunk, pool, stages)
            log(
                "INFO",
                "silver chunk done",
                run_id=self.run_id,
                chunk=number,
                objects=len(chunk),
                **asdict(self.counts),
            )

    def _chunk(
        self, ws: Workspace, chunk: List[BronzeObject], pool: ParsePool, stages: _Stages
    ) -> None:
        for_sql: List[pa.Table] = []
        users_for_sql: List[pa.Table] = []
        request_tables: List[Optional[pa.Table]] = []
        for obj in chunk:
            result = pool.take(obj)
            if isinstance(result, PreparedEvents):
                parsed = result.parsed
                valid = 0 if parsed.table is None else parsed.table.num_rows
                self.counts.events_read += valid + len(parsed.rejected)
                self.counts.events_valid += valid
                self.counts.events_quarantined += len(parsed.rejected)
                self.counts.rechecked_by_model += parsed.rechecked
                if parsed.table is not None:
                    if result.events is None and not result.staged:
                        for_sql.append(parsed.table)
                    else:
                        stages.events.add(result.events)
                        # Current state takes every event of the run, not only the
                        # fresh ones: after a crash the events may be in silver
                        # while the state is not.
                        stages.tasks.add(result.tasks)
                    if result.users is None:
                        users_for_sql.append(parsed.table)
                    elif result.users.num_rows:
                        self.counts.user_changes += result.users.num_rows
                        stages.users.add(result.users)
                self._quarantine(obj, parsed.rejected)
            else:
                self.counts.requests_read += len(result.rows)
                self.counts.requests_quarantined += len(result.rejected)
                self.counts.log_records_skipped += result.skipped
                request_tables.append(result.table())
                self._quarantine(obj, result.rejected)
        if for_sql:
            self._events_by_sql(ws, for_sql, stages)
        if users_for_sql:
            self._users_by_sql(ws, users_for_sql, stages)
        stages.requests.add(unify(request_tables))

    @staticmethod
    def _groups(tables: List[pa.Table]) -> List[pa.Table]:
        """One table for the SQL (a query costs milliseconds however small), or
        one per object when their images disagree on a type."""
        try:
            return [pa.concat_tables(tables, promote_options="permissive")]
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return tables

    def _events_by_sql(self, ws: Workspace, tables: List[pa.Table], stages: _Stages) -> None:
        for table in self._groups(tables):
            self.counts.transformed_by_sql += table.num_rows
            ws.register("ev", table)
            sql, extras = task_events_sql(table)
            rows = fastpath.plain_lists(drop_empty_columns(ws.query(sql), extras))
            ws.unregister("ev")
            stages.events.add(rows)
            stages.tasks.add(fastpath.latest(fastpath.task_state_rows(rows), TASK_KEY))

    def _users_by_sql(self, ws: Workspace, tables: List[pa.Table], stages: _Stages) -> None:
        for table in self._groups(tables):
            users = table.filter(pc.equal(table.column("entity_type"), "user"))
            if not users.num_rows:
                continue
            ws.register("ev", users)
            sql, extras = users_sql(users)
            rows = drop_empty_columns(ws.query(latest_sql(f"({sql})", USER_KEY)), extras)
            ws.unregister("ev")
            self.counts.user_changes += rows.num_rows
            stages.users.add(rows)

    def _quarantine(self, obj: BronzeObject, rejected: List[Rejected]) -> None:
        if not rejected:
            return
        # Named after the bronze object, so a re-run overwrites rather than adds.
        body = "".join(
            json.dumps(
                {
                    "bronze_key": obj.key,
                    "line_number": r.line_number,
                    "reason": r.reason,
                    "record": r.record,
                },
                ensure_ascii=False,
            )
            + "\n"
            for r in rejected
        )
        self.silver.put_bytes(
            f"{lake.QUARANTINE_PREFIX}{obj.key}.rejected.jsonl",
            body.encode(),
            "application/x-ndjson",
        )
        log(
            "WARNING",
            "records quarantined",
            run_id=self.run_id,
            bronze_key=obj.key,
            count=len(rejected),
            first_reason=rejected[0].reason,
        )

    # --- the end of the run: each output partition written once -----------------------
    def _publish(self, stages: _Stages) -> None:
        with self._phase("write_task_events"):
            self.counts.events_written = self._append_new(
                lake.SILVER_TASK_EVENTS, stages.events, EVENT_KEY, ("event_id", ORDINAL)
            )
        self.counts.duplicates_dropped = stages.events.rows - self.counts.events_written
        with self._phase("write_api_requests"):
            self.counts.requests_written = self._append_new(
                lake.SILVER_API_REQUESTS, stages.requests, REQUEST_KEY, ("request_time", ORDINAL)
            )
        with self._phase("merge_tasks"):
            self.counts.tasks_written = self._merge_state(
                lake.SILVER_TASKS, stages.tasks.result(), TASK_KEY
            )
        with self._phase("merge_users"):
            self.counts.users_written = self._merge_state(
                lake.SILVER_USERS, stages.users.result(), USER_KEY
            )

    @contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        """Time a part of the run (reported in the run's log line)."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = round(self.phases.get(name, 0.0) + time.monotonic() - started, 3)

    def _append_new(
        self, table: str, stage: Stage, key: Tuple[str, ...], order: Tuple[str, ...]
    ) -> int:
        """Append the staged rows whose key is new: once per run (the first by
        ``order``), and not already in the partition of the table they go to
        (re-deliveries, and re-runs after a crash before the manifest commit)."""
        if not stage.rows:
            return 0
        listing = self.silver.partition_files(table, stage.partition)

        def partition(value: str) -> Callable[[], pa.Table]:
            def rows() -> pa.Table:
                staged = stage.read(value)
                first = fastpath.first_per_key(staged, key, order)
                staged = staged if first is None else first
                existing = self.silver.read_files(listing.get(value, []), columns=list(key))
                if existing is not None and existing.num_rows:
                    known = _one_chunk(fastpath.key_strings(existing, key))
                    mine = fastpath.key_strings(staged, key)
                    staged = staged.filter(pc.invert(pc.is_in(mine, value_set=known)))
                stage.remove(value)
                return staged.drop_columns([ORDINAL])

            return rows

        pieces = ((value, partition(value)) for value in stage.values())
        return self.silver.write_partitions(
            table, stage.partition, pieces, filename_prefix=f"{self.run_id}_"
        )

    # --- current state ------------------------------------------------------------
    def _merge_state(self, table: str, latest: Optional[pa.Table], key: Tuple[str, ...]) -> int:
        """Fold the run's latest rows into the table's creation-date partitions.

        A partition the table does not have yet is written as it is. The
        others are merged in groups: read, highest sequence number wins,
        written as new files, and only then are the old files deleted: a crash
        in between leaves two versions of some rows, which the next merge (and
        any reader taking the highest sequence number) resolves the same way.
        """
        if latest is None or latest.num_rows == 0:
            return 0
        listing = self.silver.partition_files(table, C.STATE_PARTITION)
        prefix = f"{self.run_id}_"
        fresh = [(v, rows) for v, rows in fastpath.split_by(latest, C.STATE_PARTITION)]
        self.silver.write_partitions(
            table, C.STATE_PARTITION, ((v, r) for v, r in fresh if v not in listing), prefix
        )
        merged = [(v, rows) for v, rows in fresh if v in listing]
        del fresh
        for start in range(0, len(merged), STATE_PARTITIONS_PER_WRITE):
            group = merged[start : start + STATE_PARTITIONS_PER_WRITE]
            old_files = [f for value, _ in group for f in listing[value]]
            combined = unify(
                [self.silver.read_files(old_files)]
                + [_with_partition(rows, C.STATE_PARTITION, value) for value, rows in group]
            )
            assert combined is not None
            result = fastpath.latest(combined, key)
            self.silver.write_partitions(
                table, C.STATE_PARTITION, fastpath.split_by(result, C.STATE_PARTITION), prefix
            )
            self.silver.delete_keys(old_files)
        return latest.num_rows


class _Latest:
    """The latest row per key over everything the run has read, in memory.

    Chunks add their own latest rows; they are reduced together when they
    have doubled since the last reduction, so the cost stays linear.
    """

    def __init__(self, key: Tuple[str, ...]) -> None:
        self.key = key
        self._tables: List[pa.Table] = []
        self._rows = 0
        self._reduced = 0

    def add(self, rows: Optional[pa.Table]) -> None:
        if rows is None or rows.num_rows == 0:
            return
        self._tables.append(rows)
        self._rows += rows.num_rows
        if self._rows > max(100_000, 2 * self._reduced):
            self._reduce()

    def _reduce(self) -> None:
        combined = unify(self._tables)
        self._tables = [] if combined is None else [fastpath.latest(combined, self.key)]
        self._rows = self._reduced = sum(t.num_rows for t in self._tables)

    def result(self) -> Optional[pa.Table]:
        self._reduce()
        return self._tables[0] if self._tables else None


class _Stages:
    """Where a run's rows wait for the end of the run."""

    def __init__(self, directory: str) -> None:
        self.events = Stage(directory, "task_events", C.TASK_EVENTS_PARTITION)
        self.requests = Stage(directory, "api_requests", C.API_REQUESTS_PARTITION)
        self.tasks = _Latest(TASK_KEY)
        self.users = _Latest(USER_KEY)


def _one_chunk(values: pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)


def _with_partition(table: pa.Table, column: str, value: str) -> pa.Table:
    return table.append_column(column, pa.array([value] * table.num_rows, pa.string()))


def run(settings: SilverSettings) -> RunCounts:
    return SilverJob(settings).run()


def main(argv: Optional[Sequence[str]] = None) -> int:
    settings = SilverSettings.from_argv(sys.argv[1:] if argv is None else argv)
    try:
        run(settings)
    except Exception as exc:
        log("ERROR", "silver run failed", error=repr(exc))
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
