"""Where the gold SQL runs.

``DuckDBEngine`` (the default, and the only one locally): the silver files
are fetched from S3 into a local work directory and DuckDB queries them
in-process, reading only the columns the SQL uses, straight from Parquet
into its own format (reading them through Arrow instead took a run about
0.4 s longer per million rows); the current-state views are materialised
once (temporary tables), since three gold tables read them.
``AthenaEngine``: the same SQL, transpiled to Athena's dialect, runs in
Athena through awswrangler against the catalog tables, for data that
outgrows one machine.
"""

from __future__ import annotations

import tempfile
import warnings
from typing import Any, Callable, Dict, Mapping, Optional, Sequence

import duckdb
import pyarrow as pa

from todo_gold import queries as Q
from todo_gold.silver_reader import LocalFile, SilverReader
from todo_silver.lakeio import LakeStore

__all__ = ["SILVER_COLUMNS", "AthenaEngine", "DuckDBEngine", "register_gold"]

#: The silver columns gold reads (only these are decoded), with the types the
#: SQL sees (also when a column or a whole table does not exist yet).
SILVER_COLUMNS: Dict[str, Dict[str, pa.DataType]] = {
    "tasks": {
        "user_id": pa.string(),
        "task_id": pa.string(),
        "sequence_number": pa.string(),
        "is_deleted": pa.bool_(),
        "status": pa.string(),
        "category": pa.string(),
        "created_at": pa.timestamp("us"),
        "completed_at": pa.timestamp("us"),
    },
    "users": {
        "user_id": pa.string(),
        "sequence_number": pa.string(),
        "is_deleted": pa.bool_(),
        "email": pa.string(),
        "given_name": pa.string(),
        "family_name": pa.string(),
        "created_at": pa.timestamp("us"),
        "last_event_time": pa.timestamp("us"),
    },
    "task_events": {
        "user_id": pa.string(),
        "task_id": pa.string(),
        "event_name": pa.string(),
        "event_time": pa.timestamp("us"),
        "status_changed": pa.bool_(),
        "status_to": pa.string(),
        "event_date": pa.string(),
    },
}
GOLD_SCHEMAS_NEEDED_BY_INSIGHTS = (
    "kpi_snapshot",
    "daily_task_metrics",
    "category_analytics",
    "user_analytics",
)


#: SQL types of the Arrow types in SILVER_COLUMNS.
_SQL_TYPES = {
    pa.string(): "VARCHAR",
    pa.bool_(): "BOOLEAN",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.timestamp("us"): "TIMESTAMP",
}


def fetch(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    result = con.execute(sql)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return result.fetch_arrow_table()


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parquet_source(paths: Sequence[str]) -> str:
    """The files as one relation: columns matched by name (older files may
    lack newer columns), partition values from the Hive-style directories,
    kept as text as Athena's string partition keys are."""
    files = ", ".join(_literal(p) for p in paths)
    return (
        f"read_parquet([{files}], hive_partitioning = true, union_by_name = true,"
        " hive_types_autocast = false)"
    )


class DuckDBEngine:
    name = "duckdb"
    dialect = Q.SOURCE_DIALECT

    def __init__(
        self, memory_mb: int = 512, threads: int = 2, work_dir: Optional[str] = None
    ) -> None:
        self.con = duckdb.connect(config={"memory_limit": f"{memory_mb}MB", "threads": threads})
        # Silver timestamps are naive UTC; keep any conversion DuckDB makes in UTC too.
        self.con.execute("SET TimeZone = 'UTC'")
        # Every gold query orders its rows itself; materialising the views in
        # any order is faster.
        self.con.execute("SET preserve_insertion_order = false")
        self._work = tempfile.TemporaryDirectory(prefix="todo-gold-", dir=work_dir)
        self.input_rows = 0

    def prepare(self, silver: SilverReader, params: Dict[str, str]) -> Dict[str, int]:
        """Fetch silver and build the views; returns the silver row counts.

        Each view is built as soon as its table is in, while the larger
        tables still download.
        """
        counts = {}
        for table, files in silver.download(SILVER_COLUMNS, self._work.name):
            counts[table] = self.register_files(table, files, SILVER_COLUMNS[table])
            for view, source in Q.VIEW_SOURCES.items():
                if source == table:
                    self.create_view(view, params)
        self.input_rows = sum(counts.values())
        return counts

    def register_files(
        self, name: str, files: Sequence[LocalFile], columns: Mapping[str, pa.DataType]
    ) -> int:
        """View ``name`` over local Parquet files: exactly ``columns``, cast to
        their types, all-null where no file has them. Returns the row count."""
        present = {c for f in files for c in f.columns}
        if files:
            source = parquet_source([f.path for f in files])
        else:
            source = "(SELECT 1) AS no_files WHERE false"
        # Names are quoted identifiers and paths quoted literals (_identifier, _literal).
        select = ", ".join(
            f"CAST({_identifier(c) if c in present else 'NULL'} AS {_SQL_TYPES[kind]})"
            f" AS {_identifier(c)}"
            for c, kind in columns.items()
        )
        view = _identifier(name)
        self.con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT {select} FROM {source}")  # noqa: S608
        return sum(f.rows for f in files)

    def register(self, name: str, table: pa.Table) -> None:
        """Query an Arrow table as ``name``."""
        self.con.register(name, table)

    def create_views(self, params: Dict[str, str]) -> None:
        for view in Q.VIEWS:
            self.create_view(view, params)

    def create_view(self, view: str, params: Dict[str, str]) -> None:
        # A temporary table, not a view: computed once, not once per reader.
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {view} AS {Q.render(Q.load('views', view), params)}"
        )

    def query(self, sql: str) -> pa.Table:
        return fetch(self.con, sql)

    def close(self) -> None:
        self.con.close()
        self._work.cleanup()


class AthenaEngine:
    """Runs the transpiled SQL in Athena; ``execute`` is injectable for tests."""

    name = "athena"
    dialect = Q.ATHENA_DIALECT

    def __init__(
        self,
        database: str,
        workgroup: Optional[str] = None,
        execute: Optional[Callable[[str, bool], Any]] = None,
    ) -> None:
        self.database = database
        self.workgroup = workgroup
        self._execute = execute or self._wrangler
        self.input_rows = 0
        self.statements: list = []

    def _wrangler(self, sql: str, returns_rows: bool) -> Any:
        import awswrangler as wr

        if returns_rows:
            frame = wr.athena.read_sql_query(
                sql,
                database=self.database,
                workgroup=self.workgroup,
                ctas_approach=False,
                dtype_backend="pyarrow",
            )
            return pa.Table.from_pandas(frame, preserve_index=False)
        query_id = wr.athena.start_query_execution(
            sql, database=self.database, workgroup=self.workgroup
        )
        wr.athena.wait_query(query_id)
        return None

    def prepare(self, silver: SilverReader, params: Dict[str, str]) -> Dict[str, int]:
        """Athena reads the catalog tables where they are: only the views are made."""
        self.create_views(params)
        return {}

    def create_views(self, params: Dict[str, str]) -> None:
        for view in Q.VIEWS:
            body = Q.to_dialect(Q.render(Q.load("views", view), params), self.dialect)
            statement = f"CREATE OR REPLACE VIEW {view} AS {body}"
            self.statements.append(statement)
            self._execute(statement, False)

    def query(self, sql: str) -> pa.Table:
        statement = Q.to_dialect(sql, self.dialect)
        self.statements.append(statement)
        return self._execute(statement, True)

    def close(self) -> None:
        pass


def register_gold(engine: DuckDBEngine, gold: LakeStore, tables: Sequence[str]) -> None:
    """Make gold tables queryable by name in DuckDB (for the insights)."""
    for table in tables:
        data = gold.read_table(table)
        if data is None:
            raise LookupError(f"gold table {table!r} has no data yet: run the gold job first")
        engine.register(table, data)
