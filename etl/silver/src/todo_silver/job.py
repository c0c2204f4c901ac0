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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

# Every run writes the catalog through awswrangler (todo_lake.catalog
# imports it on first use, so readers of the lake never pay for it); importing
# it, pandas included, takes seconds, paid here with the interpreter's
# start-up rather than in the middle of a run.
import awswrangler  # noqa: F401
import pyarrow as pa
import pyarrow.compute as pc

from todo_core import lake
from todo_lake.lease import Lease, LeaseHeld
from todo_lake.observability import log, publish_metrics, run_logged
from todo_lake.silver_schema import EVENT_KEY, REQUEST_KEY, STATE_PARTITION, TASK_KEY, USER_KEY
from todo_lake.store import LakeStore
from todo_silver import arrow_transform
from todo_silver.bronze import BronzeObject, BronzeSource, chunked, open_source
from todo_silver.manifest import Manifest
from todo_silver.parse import Rejected
from todo_silver.prefetch import ParsePool, PreparedEvents
from todo_silver.settings import SilverSettings
from todo_silver.staging import ORDINAL, RunRows, StagingArea
from todo_silver.state_merge import merge_groups
from todo_silver.tables import (
    first_per_key,
    key_strings,
    one_chunk,
    split_by,
    unify,
    with_partition,
)
from todo_silver.transform import SilverRows, transform_declined
from todo_silver.workspace import Workspace

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


class SilverJob:
    def __init__(
        self,
        settings: SilverSettings,
        source: Optional[BronzeSource] = None,
        store: Optional[LakeStore] = None,
    ) -> None:
        self.settings = settings
        self.silver = store or LakeStore(settings.silver_bucket, settings.database_name)
        self.source = source or open_source(settings.bronze_bucket)
        self.manifest = Manifest(self.silver)
        self.counts = RunCounts()
        self.phases: Dict[str, float] = {}
        now = dt.datetime.now(dt.timezone.utc)
        self.run_id = now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]

    # --- the run ------------------------------------------------------------------
    def run(self) -> RunCounts:
        """One run, under the silver bucket's lease; a run that finds it held
        logs who holds it and returns without touching silver."""
        lease = Lease(self.silver, self.run_id, self.settings.lease_seconds)
        try:
            lease.acquire()
        except LeaseHeld as held:
            log(
                "WARNING",
                "silver run skipped: another run holds the lease",
                run_id=self.run_id,
                holder=held.holder.get("owner"),
                expires_at=held.holder.get("expires_at"),
            )
            return self.counts
        try:
            return self._run(lease)
        finally:
            lease.release()

    def _run(self, lease: Lease) -> RunCounts:
        started, cpu_started = time.monotonic(), time.process_time()
        # A refresh a crashed run left unfinished is finished by this run.
        refresh = self.settings.full_refresh or self.manifest.refresh_pending()
        if refresh:
            with self._phase("full_refresh_reset"):
                self._reset()
        state = self.manifest.load(self.settings.lateness_hours)
        done = state.processed
        # Only the lateness window is listed: a run costs the same however old the lake.
        todo = [o for o in self.source.list(state.since) if o.key not in done]
        self.counts.bronze_objects = len(todo)
        log(
            "INFO",
            "silver run started",
            run_id=self.run_id,
            new_objects=len(todo),
            already_processed=len(done),
            listed_since=None if state.since is None else state.since.isoformat(),
            bronze=self.source.location,
        )
        self._process(todo)
        # Every output is durable now; the manifest commit makes the run count.
        with self._phase("commit"):
            lease.check()  # still ours: no other run wrote since this one started
            self.manifest.commit(self.run_id, state, [o.key for o in todo], asdict(self.counts))
            if refresh:
                self.manifest.end_refresh()
        elapsed = time.monotonic() - started
        log(
            "INFO",
            "silver run complete",
            run_id=self.run_id,
            seconds=round(elapsed, 3),
            # CPU of all the job's threads: with ``seconds``, how busy the cores were.
            cpu_seconds=round(time.process_time() - cpu_started, 3),
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

    def _process(self, todo: List[BronzeObject]) -> None:
        """Read the new bronze objects and write every output (all but the
        manifest commit); the engine's part of a run (the Spark engine,
        ``todo_lake_spark.silver_job``, brings its own)."""
        with Workspace(self.settings.duckdb_memory_mb) as ws:
            staged = RunRows(ws.directory)
            with ParsePool(
                self.source,
                todo,
                self.settings.parse_threads,
                self.settings.chunk_bytes,
                staged.events,
            ) as pool:
                self._read(ws, todo, pool, staged)
            with self._phase("write_outputs"):  # the four phases below, side by side
                self._write_outputs(staged)

    def _reset(self) -> None:
        log("INFO", "full refresh: dropping silver tables and the manifest", run_id=self.run_id)
        # Durable first: a crash from here on is finished by the next run.
        self.manifest.begin_refresh(self.run_id)
        for table in lake.SILVER_TABLES:
            self.silver.drop_table(table)
        self.silver.delete_keys(self.silver.list_keys(lake.QUARANTINE_PREFIX))
        self.manifest.reset()

    # --- reading bronze, one chunk at a time ---------------------------------------------
    def _read(
        self, ws: Workspace, todo: List[BronzeObject], pool: ParsePool, staged: RunRows
    ) -> None:
        for number, chunk in enumerate(chunked(todo, self.settings.chunk_bytes), 1):
            with self._phase("read_and_stage"):
                self._chunk(ws, chunk, pool, staged)
            log(
                "INFO",
                "silver chunk done",
                run_id=self.run_id,
                chunk=number,
                objects=len(chunk),
                **asdict(self.counts),
            )

    def _chunk(
        self, ws: Workspace, chunk: List[BronzeObject], pool: ParsePool, staged: RunRows
    ) -> None:
        declined: List[SilverRows] = []
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
                self._add_rows(result.rows, staged)
                if result.rows.declined:
                    declined.append(result.rows)
                self._quarantine(obj, parsed.rejected)
            else:
                self.counts.requests_read += len(result.rows)
                self.counts.requests_quarantined += len(result.rejected)
                self.counts.log_records_skipped += result.skipped
                request_tables.append(result.table())
                self._quarantine(obj, result.rejected)
        for rows in transform_declined(ws, declined):
            self.counts.transformed_by_sql += rows.by_sql
            self._add_rows(rows, staged)
        staged.requests.add(unify(request_tables))

    def _add_rows(self, rows: SilverRows, staged: RunRows) -> None:
        staged.events.add(rows.events)
        # Current state takes every event of the run, not only the fresh
        # ones: after a crash the events may be in silver while the state is not.
        staged.tasks.add(rows.tasks)
        if rows.users is not None:
            self.counts.user_changes += rows.users.num_rows
            staged.users.add(rows.users)

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
    def _write_outputs(self, staged: RunRows) -> None:
        """The appends and the state merges go to different tables and each is
        idempotent, so they run side by side (each half of the tail alone
        keeps about one core busy: encoding a file while another uploads)."""
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="write") as pool:
            appends = pool.submit(self._write_appends, staged)
            merges = pool.submit(self._write_states, staged)
            for done in (appends, merges):
                done.result()

    def _write_appends(self, staged: RunRows) -> None:
        with self._phase("write_task_events"):
            self.counts.events_written = self._append_new(
                lake.SILVER_TASK_EVENTS, staged.events, EVENT_KEY, ("event_id", ORDINAL)
            )
        self.counts.duplicates_dropped = staged.events.rows - self.counts.events_written
        with self._phase("write_api_requests"):
            self.counts.requests_written = self._append_new(
                lake.SILVER_API_REQUESTS, staged.requests, REQUEST_KEY, ("request_time", ORDINAL)
            )

    def _write_states(self, staged: RunRows) -> None:
        with self._phase("merge_tasks"):
            self.counts.tasks_written = self._merge_state(
                lake.SILVER_TASKS, staged.tasks.result(), TASK_KEY
            )
        with self._phase("merge_users"):
            self.counts.users_written = self._merge_state(
                lake.SILVER_USERS, staged.users.result(), USER_KEY
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
        self, table: str, staging: StagingArea, key: Tuple[str, ...], order: Tuple[str, ...]
    ) -> int:
        """Append the staged rows whose key is new: once per run (the first by
        ``order``), and not already in the partition of the table they go to
        (re-deliveries, and re-runs after a crash before the manifest commit)."""
        if not staging.rows:
            return 0
        listing = self.silver.partition_files(table, staging.partition)

        def partition(value: str) -> Callable[[], pa.Table]:
            def rows() -> pa.Table:
                fresh = staging.read(value)
                first = first_per_key(fresh, key, order)
                fresh = fresh if first is None else first
                existing = self.silver.read_files(listing.get(value, []), columns=list(key))
                if existing is not None and existing.num_rows:
                    known = one_chunk(key_strings(existing, key))
                    mine = key_strings(fresh, key)
                    fresh = fresh.filter(pc.invert(pc.is_in(mine, value_set=known)))
                staging.remove(value)
                return fresh.drop_columns([ORDINAL])

            return rows

        pieces = ((value, partition(value)) for value in staging.values())
        return self.silver.write_partitions(
            table, staging.partition, pieces, filename_prefix=f"{self.run_id}_", listed=listing
        )

    # --- current state ------------------------------------------------------------
    def _merge_state(self, table: str, latest: Optional[pa.Table], key: Tuple[str, ...]) -> int:
        """Fold the run's latest rows into the table's creation-date partitions.

        A partition the table does not have yet is written as it is. The
        others are merged in groups of at most ``--MERGE_MB`` of Parquet
        (:mod:`todo_silver.state_merge`): read, highest sequence number wins,
        written as new files, and only then are the old files deleted: a crash
        in between leaves two versions of some rows, which the next merge (and
        any reader taking the highest sequence number) resolves the same way.
        """
        if latest is None or latest.num_rows == 0:
            return 0
        listing = self.silver.partition_files(table, STATE_PARTITION)
        prefix = f"{self.run_id}_"
        fresh = list(split_by(latest, STATE_PARTITION))
        self.silver.write_partitions(
            table,
            STATE_PARTITION,
            ((v, r) for v, r in fresh if v not in listing),
            prefix,
            listed=listing,
        )
        merged = {v: rows for v, rows in fresh if v in listing}
        del fresh
        sizes = {v: sum(self.silver.file_size(f) for f in listing[v]) for v in merged}
        for values in merge_groups(sizes, self.settings.merge_mb << 20):
            group = [(value, merged.pop(value)) for value in values]
            old_files = [f for value, _ in group for f in listing[value]]
            combined = unify(
                [self.silver.read_files(old_files)]
                + [with_partition(rows, STATE_PARTITION, value) for value, rows in group]
            )
            assert combined is not None
            result = arrow_transform.latest(combined, key)
            self.silver.write_partitions(
                table, STATE_PARTITION, split_by(result, STATE_PARTITION), prefix
            )
            self.silver.delete_keys(old_files)
        return latest.num_rows


def run(settings: SilverSettings) -> RunCounts:
    return SilverJob(settings).run()


def main(argv: Optional[Sequence[str]] = None) -> int:
    settings = SilverSettings.from_argv(sys.argv[1:] if argv is None else argv)
    return run_logged("silver", lambda: run(settings))


if __name__ == "__main__":
    sys.exit(main())
