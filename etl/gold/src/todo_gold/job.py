"""The gold job: silver tables -> the business tables, written once in SQL.

Run by Glue (Python shell) or locally as ``python -m todo_gold.job
--SILVER_BUCKET ... --GOLD_BUCKET ... --DATABASE_NAME ...``. Every table is
recomputed from silver and rewritten idempotently: whole tables for
user_analytics and category_analytics, the partitions it computes for
daily_task_metrics (``metric_date``) and kpi_snapshot (``snapshot_date``,
one snapshot per day: the day's last run wins).

The run's time (``seconds`` in the log line, ``GoldRunSeconds``) covers all
of it: listing and reading silver, the SQL, writing gold and the catalog.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, Optional, Protocol, Sequence, Tuple

# Every run writes the catalog through awswrangler (todo_lake.catalog
# imports it on first use, so readers of the lake never pay for it); importing
# it, pandas included, takes seconds, paid here with the interpreter's
# start-up rather than in the middle of a run.
import awswrangler  # noqa: F401
import pyarrow as pa

from todo_core import lake
from todo_gold import collapse_guard, pii, queries
from todo_gold.engines import AthenaEngine, DuckDBEngine
from todo_gold.gold_reader import read_gold_table
from todo_gold.gold_writer import GoldWriter, TableWrite
from todo_gold.settings import GoldSettings
from todo_gold.silver_reader import SilverReader
from todo_lake import catalog
from todo_lake import pii as lake_pii
from todo_lake.observability import log, publish_metrics, run_logged
from todo_lake.s3io import http_pool, s3_client
from todo_lake.store import LakeStore

#: How each gold table is written: (partition columns, awswrangler mode).
WRITE_PLAN: Dict[str, Tuple[Tuple[str, ...], str]] = {
    lake.GOLD_USER_ANALYTICS: ((), "overwrite"),
    lake.GOLD_DAILY_TASK_METRICS: (("metric_date",), "overwrite_partitions"),
    lake.GOLD_CATEGORY_ANALYTICS: ((), "overwrite"),
    lake.GOLD_KPI_SNAPSHOT: (("snapshot_date",), "overwrite_partitions"),
}


@dataclass
class GoldResult:
    as_of: dt.datetime
    input_rows: int = 0
    rows_written: Dict[str, int] = field(default_factory=dict)
    files: Dict[str, Dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    kpis: Dict[str, object] = field(default_factory=dict)


class GoldEngine(Protocol):
    """Where the gold SQL runs: DuckDB and Athena here, Spark in ``todo_lake_spark``."""

    name: str
    #: The sqlglot dialect the SQL is run in (the HMACs are spelt for it).
    dialect: str

    def table_parameters(self) -> Dict[str, str]: ...

    def prepare(self, silver: SilverReader, params: Dict[str, str]) -> Dict[str, int]: ...

    def query(self, sql: str) -> pa.Table: ...

    def close(self) -> None:
        """Release what the engine holds; calling it again does nothing."""
        ...


def make_engine(settings: GoldSettings) -> GoldEngine:
    if settings.engine == "athena":
        return AthenaEngine(settings.database_name, settings.athena_workgroup)
    if settings.engine == "spark":
        # Spark runs in the Glue Spark job, which brings its session and engine.
        raise ValueError("--ENGINE spark runs as the Spark job: python -m todo_lake_spark.gold_job")
    return DuckDBEngine(settings.duckdb_memory_mb)


class GoldJob:
    def __init__(self, settings: GoldSettings, engine: Optional[GoldEngine] = None) -> None:
        self.settings = settings
        # Clients are made once per process (thread-safe, shared by the pools),
        # before the run: making one is slow. The Glue client is the catalog
        # session's, which the catalog writes use too, so none is made in the
        # middle of the run's writes.
        self.s3 = s3_client()
        self.http = http_pool()
        self.glue = catalog.session().client("glue")
        self.silver = SilverReader(settings.silver_bucket, self.s3, http=self.http)
        self.engine = engine or make_engine(settings)

    def _pii_key(self) -> Optional[bytes]:
        """The HMAC key (from Secrets Manager); none needed for ``--PII_MODE clear``."""
        if self.settings.pii_mode == "clear":
            return None
        return lake_pii.hmac_key(self.settings.pii_hmac_secret_id, catalog.session())

    def _guard(self, snapshot: pa.Table, as_of: dt.datetime) -> None:
        """Refuse to publish a collapsed input (``collapse_guard``)."""
        if not snapshot.num_rows:
            return
        published = read_gold_table(
            LakeStore(self.settings.gold_bucket, self.settings.database_name, self.s3),
            lake.GOLD_KPI_SNAPSHOT,
            self.glue,
            ["as_of", *collapse_guard.GUARDED],
        )
        verdicts = collapse_guard.check(
            snapshot.to_pylist()[0],
            [] if published is None else published.to_pylist(),
            as_of,
            self.engine.query,
            self.settings.max_input_drop,
            self.settings.allow_input_collapse,
        )
        if any(v.collapsed for v in verdicts):
            log(
                "WARNING",
                "input collapse allowed by --ALLOW_INPUT_COLLAPSE",
                verdicts=repr(verdicts),
            )

    def run(self) -> GoldResult:
        started = time.monotonic()
        as_of = self.settings.as_of or dt.datetime.now(dt.timezone.utc)
        since = (
            dt.date(1970, 1, 1)
            if self.settings.since_days is None
            else (as_of - dt.timedelta(days=self.settings.since_days)).date()
        )
        params = queries.parameters(as_of, since)
        params.update(self.engine.table_parameters())
        params.update(
            pii.sql_parameters(self.settings.pii_mode, self._pii_key(), self.engine.dialect)
        )
        result = GoldResult(as_of=as_of)
        gold = GoldWriter(
            self.settings.gold_bucket,
            self.settings.database_name,
            self.s3,
            self.glue,
            http=self.http,
        )
        try:
            counts = self.engine.prepare(self.silver, params)
            # What gold holds is looked up once silver is in: the look-ups are
            # needed only when the first table is written, and made at the same
            # time they would delay silver's listings, which every read waits for.
            gold.start({table: WRITE_PLAN[table][0] for table in queries.TABLES})
            result.input_rows = sum(counts.values())
            # The snapshot first: nothing is written when the input collapsed.
            computed = {
                lake.GOLD_KPI_SNAPSHOT: self.engine.query(
                    queries.render(queries.load("tables", lake.GOLD_KPI_SNAPSHOT), params)
                )
            }
            self._guard(computed[lake.GOLD_KPI_SNAPSHOT], as_of)
            for table in queries.TABLES:
                if table in computed:
                    rows = computed[table]
                else:
                    rows = self.engine.query(queries.render(queries.load("tables", table), params))
                if table == lake.GOLD_KPI_SNAPSHOT and rows.num_rows:
                    result.kpis = {k: v[0] for k, v in rows.to_pydict().items()}
                partitions, mode = WRITE_PLAN[table]
                gold.write(table, rows, partitions, mode)  # in the background
            # Every table is computed: the engine is released (its local copy
            # of silver deleted) while the writes finish in the background.
            self.engine.close()
            written: Dict[str, TableWrite] = gold.finish()
        finally:
            gold.close()
            self.engine.close()
        for table, outcome in written.items():
            result.rows_written[table] = outcome.rows
            result.files[table] = {
                "written": outcome.files_written,
                "unchanged": outcome.files_unchanged,
                "deleted": outcome.files_deleted,
            }
        result.seconds = time.monotonic() - started
        log(
            "INFO",
            "gold run complete",
            engine=self.engine.name,
            as_of=as_of.isoformat(),
            input_rows=result.input_rows,
            rows_written=result.rows_written,
            silver_files=self.silver.files_read,
            gold_files=result.files,
            seconds=round(result.seconds, 3),
            kpis=result.kpis,
        )
        if self.settings.publish_metrics:
            values = {
                "GoldInputRows": float(result.input_rows),
                "GoldRowsWritten": float(sum(result.rows_written.values())),
                "GoldRunSeconds": result.seconds,
            }
            publish_metrics(
                "gold",
                values,
                self.settings.stage,
                self.settings.metrics_namespace,
                units={"GoldRunSeconds": "Seconds"},
            )
        return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    settings = GoldSettings.from_argv(sys.argv[1:] if argv is None else argv)
    return run_logged("gold", lambda: GoldJob(settings).run())


if __name__ == "__main__":
    sys.exit(main())
