"""The silver job on Spark (Glue 5, ``glueetl``): the Python-shell job's run,
with Spark reading bronze, running silver's SQL and writing the tables.

Everything but the engine is the Python-shell job's own
(:class:`todo_silver.job.SilverJob`): the arguments, the lease, the full
refresh and its marker, the manifest and its lateness window, quarantine
objects, the counts, the run's log line and its CloudWatch metrics. So a run
on one engine can follow a run on the other: they read and write the same
keys. The engine's part (:meth:`SparkSilverJob._process`):

1. the new bronze objects are parsed on the executors by silver's own parser
   (:mod:`todo_lake_spark.silver_bronze`); rejected records are quarantined;
2. silver's SQL (:mod:`todo_silver.sql_transform`, transpiled by
   :mod:`todo_lake_spark.silver_sql`) makes the ``task_events`` rows, the
   task and user state rows and the run's latest row per task and user;
3. new events and requests are appended, current state merged
   (:mod:`todo_lake_spark.silver_write`), every table by the lake's schema
   and catalog rules (:class:`todo_lake.store.LakeStore`).

Run on Glue as this module's ``main`` with the Python-shell job's arguments;
locally add ``--LAKE_ROOT file:///dir`` (a directory of buckets, see
:mod:`todo_lake_spark.lake_root`)::

    python -m todo_lake_spark.silver_job --BRONZE_BUCKET b --SILVER_BUCKET s \\
        --DATABASE_NAME d --LAKE_ROOT file:///tmp/lake
"""

from __future__ import annotations

import sys
from collections import defaultdict
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pyarrow as pa

from todo_core import lake
from todo_lake.args import parse_glue_args
from todo_lake.observability import run_logged
from todo_lake.silver_schema import (
    API_REQUESTS_PARTITION,
    EVENT_KEY,
    REQUEST_KEY,
    STATE_PARTITION,
    TASK_EVENTS_PARTITION,
    TASK_KEY,
    USER_KEY,
    state_order,
)
from todo_lake.store import LakeStore
from todo_lake_spark.lake_root import LakeRoot
from todo_lake_spark.silver_bronze import (
    IMAGES,
    REQUEST_COLUMNS,
    event_schema,
    parse_cdc_objects,
    parse_log_objects,
    unify_images,
)
from todo_lake_spark.silver_sql import to_spark
from todo_lake_spark.silver_types import spark_schema
from todo_lake_spark.silver_write import append_new, merge_state
from todo_silver.bronze import BronzeObject
from todo_silver.job import RunCounts, SilverJob
from todo_silver.parse import Rejected
from todo_silver.settings import SilverSettings
from todo_silver.sql_transform import latest_sql, task_events_sql, task_state_sql, users_sql

__all__ = ["SPARK_RUN_SETTINGS", "SparkSilverJob", "main", "run"]

#: Runtime settings of a silver run (restored after it): attribute names that
#: differ only in case are different attributes, as in the images; a batch of
#: bronze objects handed to a Python worker holds a few whole objects.
SPARK_RUN_SETTINGS = {
    "spark.sql.caseSensitive": "true",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "4",
}
_EVENTS = "silver_events"
_TASK_EVENTS = "silver_task_event_rows"
_TASK_STATES = "silver_task_state_rows"
_USER_STATES = "silver_user_state_rows"


def _drop_empty(frame: Any, extras: Sequence[str]) -> Tuple[Any, int]:
    """Extra columns without a value in the run dropped (their type is unknown
    yet), as :func:`todo_silver.sql_transform.drop_empty_columns` does; and
    the number of rows (one pass over them)."""
    from pyspark.sql import functions as F

    present = [c for c in extras if c in frame.columns]
    counts = frame.select(
        F.count(F.lit(1)).alias("_rows"),
        *[F.count(F.col(f"`{c}`")).alias(f"_{i}") for i, c in enumerate(present)],
    ).first()
    empty = [c for i, c in enumerate(present) if not counts[f"_{i}"]]
    return (frame.drop(*empty) if empty else frame), counts["_rows"]


class SparkSilverJob(SilverJob):
    """:class:`todo_silver.job.SilverJob` with Spark as its engine."""

    def __init__(
        self, settings: SilverSettings, spark: Any, root: Optional[LakeRoot] = None
    ) -> None:
        self.root = root or LakeRoot()
        store = LakeStore(
            settings.silver_bucket, settings.database_name, s3_client=self.root.s3_client()
        )
        super().__init__(
            settings, source=self.root.bronze_source(settings.bronze_bucket), store=store
        )
        self.spark = spark

    # --- the engine's part of the run ------------------------------------------------
    def _keep(self, frame: Any) -> Any:
        """``frame`` computed once and kept (memory, then local disk) until the run ends."""
        from pyspark import StorageLevel

        kept = frame.persist(StorageLevel.MEMORY_AND_DISK)
        self._kept.append(kept)
        return kept

    def _process(self, todo: List[BronzeObject]) -> None:
        self._kept: List[Any] = []
        saved = {k: self.spark.conf.get(k, None) for k in SPARK_RUN_SETTINGS}
        for key, value in SPARK_RUN_SETTINGS.items():
            self.spark.conf.set(key, value)
        hadoop = self.spark.sparkContext._jsc.hadoopConfiguration()
        # No _SUCCESS files among the tables' files, and locally no checksum
        # files beside them (S3 has neither).
        hadoop.set("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
        if self.root.directory is not None:
            hadoop.set("fs.file.impl", "org.apache.hadoop.fs.RawLocalFileSystem")
            hadoop.set("fs.file.impl.disable.cache", "true")
        try:
            numbered = list(enumerate(todo))
            with self._phase("read_events"):
                events = self._read_events([(i, o) for i, o in numbered if o.kind == "cdc"])
            with self._phase("read_requests"):
                requests = self._read_requests([(i, o) for i, o in numbered if o.kind != "cdc"])
            self._write(events, requests)
        finally:
            for key, value in saved.items():
                if value is None:
                    self.spark.conf.unset(key)
                else:
                    self.spark.conf.set(key, value)
            for view in (_EVENTS, _TASK_EVENTS, _TASK_STATES, _USER_STATES):
                self.spark.catalog.dropTempView(view)
            for frame in self._kept:
                frame.unpersist()

    def _quarantine_rows(self, rows: Sequence[Any], objects: Dict[int, BronzeObject]) -> None:
        by_object: Dict[int, List[Rejected]] = defaultdict(list)
        for row in rows:
            by_object[row[0]].append(Rejected(row[1], row[2], row[3]))
        for index in sorted(by_object):
            self._quarantine(objects[index], sorted(by_object[index], key=lambda r: r.line_number))

    def _read_events(self, objects: List[Tuple[int, BronzeObject]]) -> Optional[Any]:
        """The run's valid change events as a temp view (None without any), with
        their place in bronze (``_object``, ``_line``); rejects quarantined."""
        from pyspark.sql import functions as F

        if not objects:
            return None
        parsed = parse_cdc_objects(self.spark, self.root, self.settings.bronze_bucket, objects)
        parsed = self._keep(parsed)
        # One pass: everything but the events (an object row per object, the rejects).
        rows = parsed.filter("kind <> 'event'").collect()
        objects_ = [r for r in rows if r["kind"] == "object"]
        rejects = [
            (r["object"], r["line"], r["reason"], r["text"]) for r in rows if r["kind"] == "reject"
        ]
        valid = sum(r["line"] for r in objects_)
        self.counts.events_read += valid + len(rejects)
        self.counts.events_valid += valid
        self.counts.events_quarantined += len(rejects)
        self.counts.rechecked_by_model += sum(r["rechecked"] for r in objects_)
        self.counts.user_changes += sum(r["users"] for r in objects_)
        self._quarantine_rows(rejects, dict(objects))
        schemas = [
            pa.ipc.read_schema(pa.py_buffer(r["image_schema"]))
            for r in objects_
            if r["image_schema"] is not None
        ]
        if not valid:
            return None
        images = unify_images(schemas)
        schema = event_schema(images)
        frame = parsed.filter("kind = 'event'").select(
            F.from_json("text", spark_schema(schema, json_input=True)).alias("e"),
            F.col("object").alias("_object"),
            F.col("line").alias("_line"),
        )
        frame = frame.select("e.*", "_object", "_line")
        # Attributes pyarrow read as timestamps (ISO-8601 text without
        # fractions): parsed as text above, the same instant as naive UTC here.
        for image in IMAGES:
            kind = images[image]
            if not pa.types.is_struct(kind):
                continue
            for i in range(kind.num_fields):
                name = kind.field(i).name
                if pa.types.is_timestamp(kind.field(i).type) and "." not in name:
                    text = F.col(image).getField(name)
                    instant = text.cast("timestamp_ltz").cast("timestamp_ntz")
                    frame = frame.withColumn(image, F.col(image).withField(name, instant))
        frame.createOrReplaceTempView(_EVENTS)
        self._event_schema = schema
        return frame

    def _read_requests(self, objects: List[Tuple[int, BronzeObject]]) -> Optional[Any]:
        from pyspark.sql import functions as F

        if not objects:
            return None
        parsed = parse_log_objects(self.spark, self.root, self.settings.bronze_bucket, objects)
        parsed = self._keep(parsed)
        summary = {
            r["_kind"]: (r["n"], r["skipped"] or 0)
            for r in parsed.groupBy("_kind")
            .agg(F.count("*").alias("n"), F.sum("_skipped").alias("skipped"))
            .collect()
        }
        self.counts.requests_read += summary.get("request", (0, 0))[0]
        self.counts.requests_quarantined += summary.get("reject", (0, 0))[0]
        self.counts.log_records_skipped += summary.get("object", (0, 0))[1]
        if summary.get("reject"):
            rows = (
                parsed.filter("_kind = 'reject'")
                .select("_object", "_row", "_reason", "_text")
                .collect()
            )
            self._quarantine_rows(rows, dict(objects))
        if not summary.get("request"):
            return None
        return parsed.filter("_kind = 'request'").select(*REQUEST_COLUMNS, "_object", "_row")

    # --- silver's rows, and the tables ---------------------------------------------
    def _sql(self, sql: str, views: Optional[Dict[str, Any]] = None) -> Any:
        columns = {name: frame.columns for name, frame in (views or {}).items()}
        return self.spark.sql(to_spark(sql, columns or None))

    def _write(self, events: Optional[Any], requests: Optional[Any]) -> None:

        spark, root, store = self.spark, self.root, self.silver
        if events is not None:
            template = self._event_schema.empty_table()
            sql, extras = task_events_sql(template, _EVENTS)
            rows, total = _drop_empty(self._keep(self._sql(sql)), extras)
            self.counts.transformed_by_sql += total
            with self._phase("write_task_events"):
                self.counts.events_written = append_new(
                    spark,
                    root,
                    store,
                    lake.SILVER_TASK_EVENTS,
                    TASK_EVENTS_PARTITION,
                    rows,
                    EVENT_KEY,
                    ("event_id",),
                )
            self.counts.duplicates_dropped = total - self.counts.events_written
            # Current state takes every event of the run, not only the fresh
            # ones: after a crash the events may be in silver while the state is not.
            with self._phase("merge_tasks"):
                rows.createOrReplaceTempView(_TASK_EVENTS)
                states = self._sql(task_state_sql(_TASK_EVENTS), {_TASK_EVENTS: rows})
                states.createOrReplaceTempView(_TASK_STATES)
                versioned = state_order(states.columns)[0] == "version"
                latest = self._sql(
                    latest_sql(_TASK_STATES, TASK_KEY, versioned), {_TASK_STATES: states}
                )
                self.counts.tasks_written = merge_state(
                    spark, root, store, lake.SILVER_TASKS, STATE_PARTITION, latest, TASK_KEY
                )
            with self._phase("merge_users"):
                self._users()
        if requests is not None:
            with self._phase("write_api_requests"):
                self.counts.requests_written = append_new(
                    spark,
                    root,
                    store,
                    lake.SILVER_API_REQUESTS,
                    API_REQUESTS_PARTITION,
                    requests,
                    REQUEST_KEY,
                    ("request_time", "_object", "_row"),
                )

    def _users(self) -> None:
        if not self.counts.user_changes:
            return
        events = self.spark.table(_EVENTS)
        template = self._event_schema.empty_table()
        sql, extras = users_sql(template, _EVENTS)
        states = self._sql(sql, {_EVENTS: events})
        states.createOrReplaceTempView(_USER_STATES)
        versioned = state_order(states.columns)[0] == "version"
        latest = self._keep(
            self._sql(latest_sql(_USER_STATES, USER_KEY, versioned), {_USER_STATES: states})
        )
        latest, _ = _drop_empty(latest, extras)
        self.counts.users_written = merge_state(
            self.spark, self.root, self.silver, lake.SILVER_USERS, STATE_PARTITION, latest, USER_KEY
        )


def run(settings: SilverSettings, spark: Any, root: Optional[LakeRoot] = None) -> RunCounts:
    return SparkSilverJob(settings, spark, root).run()


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    settings = SilverSettings.from_argv(argv)
    root = LakeRoot.parse(parse_glue_args(argv).get("LAKE_ROOT"))
    if root.directory is None:
        from todo_lake_spark.session import glue_session

        spark = glue_session()
    else:
        from todo_lake_spark.session import local_session

        spark = local_session()
    return run_logged("silver", lambda: run(settings, spark, root))


if __name__ == "__main__":
    sys.exit(main())
