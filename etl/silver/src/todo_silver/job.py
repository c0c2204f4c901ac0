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
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import pyarrow as pa

from todo_core import lake
from todo_silver import columns as C
from todo_silver.bronze import BronzeObject, BronzeSource, chunked, open_source
from todo_silver.lakeio import LakeStore
from todo_silver.logs import KEY as REQUEST_KEY
from todo_silver.logs import parse_request_logs
from todo_silver.manifest import Manifest
from todo_silver.observability import log, publish_metrics
from todo_silver.parse import Rejected, parse_change_events
from todo_silver.settings import SilverSettings
from todo_silver.transform import (
    distinct_events_sql,
    drop_empty_columns,
    latest_sql,
    q,
    task_events_sql,
    task_state_sql,
    users_sql,
)
from todo_silver.workspace import Workspace, unify

TASK_KEY = ("user_id", "task_id")
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


class SimulatedCrash(RuntimeError):
    """Raised by tests' fault injection; never by the job itself."""


class _Dedup:
    """Drops rows whose key is already in the table (this run's or earlier runs').

    The keys of every partition the run touches are loaded once into a DuckDB
    table (which spills to disk past its memory limit) and kept current.
    """

    def __init__(
        self,
        ws: Workspace,
        store: LakeStore,
        table: str,
        partition: str,
        key: Tuple[str, ...],
        key_types: Dict[str, str],
    ) -> None:
        self.ws, self.store, self.table, self.partition, self.key = ws, store, table, partition, key
        self.seen = f"seen_{table}"
        self.loaded: set = set()
        # Files of earlier runs by partition, listed once on first use: this
        # run's own rows are added to ``seen`` as they are written.
        self._files: Optional[Dict[str, List[str]]] = None
        cols = ", ".join(f"{q(c)} {key_types.get(c, 'VARCHAR')}" for c in (partition, *key))
        ws.execute(f"CREATE TABLE {self.seen} ({cols})")

    def _load(self, partitions: Sequence[str]) -> None:
        if self._files is None:
            self._files = self.store.partition_files(self.table, self.partition)
        files: List[str] = []
        for value in partitions:
            files += self._files.get(value, [])
        existing = self.store.read_files(files, columns=[self.partition, *self.key])
        if existing is not None and existing.num_rows:
            self._insert(existing)
        self.loaded.update(partitions)

    def _insert(self, rows: pa.Table) -> None:
        cols = ", ".join(q(c) for c in (self.partition, *self.key))
        self.ws.register("dedup_rows", rows.select([self.partition, *self.key]))
        self.ws.execute(f"INSERT INTO {self.seen} SELECT {cols} FROM dedup_rows")  # noqa: S608
        self.ws.unregister("dedup_rows")

    def new_rows(self, rows: pa.Table) -> pa.Table:
        touched = sorted(set(rows.column(self.partition).to_pylist()) - self.loaded)
        if touched:
            self._load(touched)
        self.ws.register("incoming", rows)
        on = " AND ".join(
            f"i.{q(c)} IS NOT DISTINCT FROM s.{q(c)}" for c in (self.partition, *self.key)
        )
        fresh = self.ws.query(f"SELECT i.* FROM incoming i ANTI JOIN {self.seen} s ON {on}")  # noqa: S608
        self.ws.unregister("incoming")
        return fresh

    def remember(self, rows: pa.Table) -> None:
        if rows.num_rows:
            self._insert(rows)


class _Latest:
    """The latest state row per key over everything this run has read."""

    def __init__(self, ws: Workspace, key: Tuple[str, ...]) -> None:
        self.ws, self.key = ws, key
        self.rows: Optional[pa.Table] = None

    def add(self, rows: Optional[pa.Table]) -> None:
        combined = unify([self.rows, rows])
        if combined is None:
            return
        self.ws.register("state_rows", combined)
        self.rows = self.ws.query(latest_sql("state_rows", self.key))
        self.ws.unregister("state_rows")


class SilverJob:
    def __init__(self, settings: SilverSettings, source: Optional[BronzeSource] = None) -> None:
        self.settings = settings
        self.silver = LakeStore(settings.silver_bucket, settings.database_name)
        self.source = source or open_source(settings.bronze_bucket)
        self.manifest = Manifest(self.silver)
        self.counts = RunCounts()
        now = dt.datetime.now(dt.timezone.utc)
        self.run_id = now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]

    # --- the run ------------------------------------------------------------------
    def run(self) -> RunCounts:
        started = time.monotonic()
        if self.settings.full_refresh:
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
            events = _Dedup(
                ws,
                self.silver,
                lake.SILVER_TASK_EVENTS,
                C.TASK_EVENTS_PARTITION,
                ("user_id", "task_id", "sequence_number"),
                {},
            )
            requests = _Dedup(
                ws,
                self.silver,
                lake.SILVER_API_REQUESTS,
                C.API_REQUESTS_PARTITION,
                REQUEST_KEY,
                {"status_code": "BIGINT"},
            )
            tasks, users = _Latest(ws, TASK_KEY), _Latest(ws, USER_KEY)
            for number, chunk in enumerate(chunked(todo, self.settings.chunk_bytes), 1):
                self._chunk(ws, chunk, events, requests, tasks, users)
                log(
                    "INFO",
                    "silver chunk done",
                    run_id=self.run_id,
                    chunk=number,
                    objects=len(chunk),
                    **asdict(self.counts),
                )
            self.counts.tasks_written = self._merge_state(ws, lake.SILVER_TASKS, tasks, TASK_KEY)
            self.counts.users_written = self._merge_state(ws, lake.SILVER_USERS, users, USER_KEY)
        self._before_commit()
        self.manifest.commit(self.run_id, [o.key for o in todo], asdict(self.counts))
        self.manifest.compact(self.run_id)
        elapsed = time.monotonic() - started
        log(
            "INFO",
            "silver run complete",
            run_id=self.run_id,
            seconds=round(elapsed, 3),
            counts=asdict(self.counts),
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

    # --- one chunk of bronze --------------------------------------------------------
    def _chunk(
        self,
        ws: Workspace,
        chunk: List[BronzeObject],
        events: _Dedup,
        requests: _Dedup,
        tasks: _Latest,
        users: _Latest,
    ) -> None:
        parsed: List[pa.Table] = []
        request_tables: List[Optional[pa.Table]] = []
        for obj, data in self.source.read_many(chunk):
            if obj.kind == "cdc":
                result = parse_change_events(data)
                valid = 0 if result.table is None else result.table.num_rows
                self.counts.events_read += valid + len(result.rejected)
                self.counts.events_valid += valid
                self.counts.events_quarantined += len(result.rejected)
                self.counts.rechecked_by_model += result.rechecked
                if result.table is not None:
                    parsed.append(result.table)
                self._quarantine(obj, result.rejected)
            else:
                logs = parse_request_logs(data)
                self.counts.requests_read += len(logs.rows)
                self.counts.requests_quarantined += len(logs.rejected)
                self.counts.log_records_skipped += logs.skipped
                request_tables.append(logs.table())
                self._quarantine(obj, logs.rejected)
        if parsed:
            self._events(ws, parsed, events, tasks, users)
        request_rows = unify(request_tables)
        if request_rows is not None:
            self._requests(ws, request_rows, requests)

    def _transform(self, ws: Workspace, table: pa.Table) -> Tuple[pa.Table, pa.Table]:
        ws.register("ev", table)
        sql, extras = task_events_sql(table)
        rows = drop_empty_columns(ws.query(distinct_events_sql(f"({sql})")), extras)
        user_sql, user_extras = users_sql(table)
        user_rows = drop_empty_columns(ws.query(latest_sql(f"({user_sql})", USER_KEY)), user_extras)
        ws.unregister("ev")
        return rows, user_rows

    def _events(
        self, ws: Workspace, parsed: List[pa.Table], events: _Dedup, tasks: _Latest, users: _Latest
    ) -> None:
        try:
            groups = [pa.concat_tables(parsed, promote_options="permissive")]
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            groups = parsed  # images disagree on a type: transform object by object
        pieces = [self._transform(ws, t) for t in groups]
        rows = unify([p[0] for p in pieces])
        user_rows = unify([p[1] for p in pieces])
        valid = sum(t.num_rows for t in parsed)
        if user_rows is not None:
            self.counts.user_changes += user_rows.num_rows
            users.add(user_rows)
        if rows is None:
            return
        if len(pieces) > 1:
            ws.register("rows", rows)
            rows = ws.query(distinct_events_sql("rows"))
            ws.unregister("rows")
        task_changes = valid - self._user_event_count(parsed)
        self.counts.duplicates_dropped += task_changes - rows.num_rows
        fresh = events.new_rows(rows)
        self.counts.duplicates_dropped += rows.num_rows - fresh.num_rows
        self.silver.append(
            lake.SILVER_TASK_EVENTS,
            fresh,
            [C.TASK_EVENTS_PARTITION],
            filename_prefix=f"{self.run_id}_",
        )
        events.remember(fresh)
        self.counts.events_written += fresh.num_rows
        # Current state takes every event of the run, not only the fresh ones:
        # after a crash the events may be in silver while the state is not.
        ws.register("rows", rows)
        state = ws.query(latest_sql(f"({task_state_sql('rows')})", TASK_KEY))
        ws.unregister("rows")
        tasks.add(state)

    @staticmethod
    def _user_event_count(parsed: List[pa.Table]) -> int:
        import pyarrow.compute as pc

        return sum(
            int(pc.sum(pc.equal(t.column("entity_type"), "user").cast(pa.int64())).as_py() or 0)
            for t in parsed
        )

    def _requests(self, ws: Workspace, rows: pa.Table, requests: _Dedup) -> None:
        ws.register("req", rows)
        key = ", ".join(q(c) for c in REQUEST_KEY)
        distinct = ws.query(
            f"SELECT * FROM req QUALIFY row_number() OVER "  # noqa: S608
            f"(PARTITION BY {key} ORDER BY request_time) = 1"
        )
        ws.unregister("req")
        fresh = requests.new_rows(distinct)
        self.silver.append(
            lake.SILVER_API_REQUESTS,
            fresh,
            [C.API_REQUESTS_PARTITION],
            filename_prefix=f"{self.run_id}_",
        )
        requests.remember(fresh)
        self.counts.requests_written += fresh.num_rows

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

    # --- current state ------------------------------------------------------------
    def _merge_state(self, ws: Workspace, table: str, latest: _Latest, key: Tuple[str, ...]) -> int:
        """Fold the run's latest rows into the table, one creation-date partition group at a time.

        Each group is read, merged (highest sequence number wins), written as
        new files, and only then are the old files deleted: a crash in between
        leaves two versions of some rows, which the next merge (and any reader
        taking the highest sequence number) resolves the same way.
        """
        if latest.rows is None or latest.rows.num_rows == 0:
            return 0
        partitions = sorted(set(latest.rows.column(C.STATE_PARTITION).to_pylist()))
        # Listed once: each group only rewrites its own partitions.
        listing = self.silver.partition_files(table, C.STATE_PARTITION)
        written = 0
        for start in range(0, len(partitions), STATE_PARTITIONS_PER_WRITE):
            group = partitions[start : start + STATE_PARTITIONS_PER_WRITE]
            old_files: List[str] = []
            for value in group:
                old_files += listing.get(value, [])
            existing = self.silver.read_files(old_files)
            ws.register("run_latest", latest.rows)
            values = ", ".join("'" + v.replace("'", "''") + "'" for v in group)
            incoming = ws.query(f"SELECT * FROM run_latest WHERE {C.STATE_PARTITION} IN ({values})")  # noqa: S608
            ws.unregister("run_latest")
            merged = unify([existing, incoming])
            assert merged is not None
            ws.register("merge_rows", merged)
            result = ws.query(latest_sql("merge_rows", key))
            ws.unregister("merge_rows")
            self.silver.append(
                table, result, [C.STATE_PARTITION], filename_prefix=f"{self.run_id}_"
            )
            self.silver.delete_keys(old_files)
            written += incoming.num_rows
        return written


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
