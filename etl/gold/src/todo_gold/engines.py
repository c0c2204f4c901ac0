"""Where the gold SQL runs.

``DuckDBEngine`` (the default, and the only one locally): silver tables are
read from S3 into Arrow and queried in-process. ``AthenaEngine``: the same
SQL, transpiled to Athena's dialect, runs in Athena through awswrangler
against the catalog tables, for data that outgrows one machine.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Dict, Optional, Sequence

import duckdb
import pyarrow as pa

from todo_gold import queries as Q
from todo_silver.lakeio import LakeStore

#: The silver columns gold reads (only these are fetched), and their types
#: when a table does not exist yet.
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


def fetch(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    result = con.execute(sql)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return result.fetch_arrow_table()


def conform(table: Optional[pa.Table], columns: Dict[str, pa.DataType]) -> pa.Table:
    """Exactly ``columns``, in order, with their types; absent ones all null."""
    n = 0 if table is None else table.num_rows
    arrays = []
    for name, kind in columns.items():
        if table is not None and name in table.column_names:
            arrays.append(table.column(name).cast(kind))
        else:
            arrays.append(pa.nulls(n, kind))
    return pa.table(arrays, names=list(columns))


class DuckDBEngine:
    name = "duckdb"
    dialect = Q.SOURCE_DIALECT

    def __init__(self, memory_mb: int = 512, threads: int = 2) -> None:
        self.con = duckdb.connect(config={"memory_limit": f"{memory_mb}MB", "threads": threads})
        self.input_rows = 0

    def load_silver(self, silver: LakeStore) -> Dict[str, int]:
        """Register the silver tables gold reads; returns their row counts."""
        counts = {}
        for table, columns in SILVER_COLUMNS.items():
            data = conform(silver.read_table(table, columns=list(columns)), columns)
            self.register(table, data)
            counts[table] = data.num_rows
        self.input_rows = sum(counts.values())
        return counts

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def create_views(self, params: Dict[str, str]) -> None:
        for view in Q.VIEWS:
            self.con.execute(
                f"CREATE OR REPLACE VIEW {view} AS {Q.render(Q.load('views', view), params)}"
            )

    def query(self, sql: str) -> pa.Table:
        return fetch(self.con, sql)

    def close(self) -> None:
        self.con.close()


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

    def load_silver(self, silver: LakeStore) -> Dict[str, int]:
        return {}  # Athena reads the catalog tables where they are

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
