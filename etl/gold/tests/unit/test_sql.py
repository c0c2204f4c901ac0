"""The SQL is written once; every query must also be valid Athena (Trino) SQL."""

import datetime as dt
import hashlib
import hmac

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot

from todo_gold import pii, queries
from todo_gold.engines import SILVER_COLUMNS, AthenaEngine, DuckDBEngine
from todo_gold.silver_reader import LocalFile

KEY = b"k" * 40
BASE = queries.parameters(dt.datetime(2025, 3, 3, 12, tzinfo=dt.timezone.utc), dt.date(1970, 1, 1))
PARAMS = {
    **BASE,
    "users_table": "users",
    **pii.sql_parameters("hmac", KEY, queries.SOURCE_DIALECT),
}
#: What the Athena engine renders: silver's users in the PII database, Trino's HMAC.
ATHENA_PARAMS = {
    **BASE,
    "users_table": "users",
    **pii.sql_parameters("hmac", KEY, queries.ATHENA_DIALECT),
}
ALL = [(kind, name) for kind in ("views", "tables", "insights") for name in queries.names(kind)]


def test_every_query_is_known_and_present():
    assert set(queries.names("views")) == set(queries.VIEWS)
    assert set(queries.names("tables")) == set(queries.TABLES)
    assert set(queries.names("insights")) == set(queries.INSIGHTS)


@pytest.mark.parametrize(("kind", "name"), ALL)
def test_every_query_transpiles_to_trino_that_parses(kind, name):
    sql = queries.render(queries.load(kind, name), ATHENA_PARAMS)
    assert "{" not in sql, "unrendered parameter"
    trino = queries.to_dialect(sql, queries.ATHENA_DIALECT)
    parsed = sqlglot.parse_one(trino, read="trino")
    assert parsed.find(sqlglot.exp.Select) is not None


def _silver_sample():
    t = dt.datetime(2025, 3, 3, 9)
    return {
        "tasks": pa.table(
            {
                "user_id": ["u1", "u1", "u2", "u2"],
                "task_id": ["t1", "t2", "t3", "t3"],
                "sequence_number": ["01", "02", "03", "04"],
                "is_deleted": [False, False, False, True],
                "status": ["completed", "pending", "completed", "completed"],
                "category": ["work", None, "work", "work"],
                "created_at": [t - dt.timedelta(hours=5)] * 4,
                "completed_at": [t, None, t, t],
            }
        ),
        "users": pa.table(
            {
                "user_id": ["u1", "u2"],
                "sequence_number": ["01", "02"],
                "is_deleted": [False, False],
                "email": ["a@x.io", None],
                "given_name": ["A", None],
                "family_name": [None, None],
                "created_at": [t, t],
                "last_event_time": [t, t],
            }
        ),
        "task_events": pa.table(
            {
                "user_id": ["u1", "u2", "u2"],
                "event_name": ["INSERT", "INSERT", "REMOVE"],
                "event_time": [t, t, t],
                "status_changed": [True, True, False],
                "status_to": ["completed", "completed", None],
                "event_date": ["2025-03-03"] * 3,
            }
        ),
    }


def _duckdb_with_sample(directory):
    """The sample as the job reads silver: local Parquet files."""
    engine = DuckDBEngine(memory_mb=128)
    for name, table in _silver_sample().items():
        path = directory / f"{name}.parquet"
        if not path.exists():
            pq.write_table(table, path)
        engine.register_files(
            name,
            [LocalFile(str(path), tuple(table.column_names), table.num_rows)],
            SILVER_COLUMNS[name],
        )
    return engine


@pytest.mark.parametrize("table", queries.TABLES)
def test_the_athena_sql_means_what_the_duckdb_sql_means(table, tmp_path):
    """Run the Trino text (translated back by sqlglot) and compare results."""
    local = _duckdb_with_sample(tmp_path)
    local.create_views(PARAMS)
    expected = local.query(queries.render(queries.load("tables", table), PARAMS)).to_pylist()

    backend = _duckdb_with_sample(tmp_path)
    # Trino's hmac_sha256, for the translated text to run on DuckDB.
    backend.con.create_function(
        "hmac_sha256",
        lambda data, key: hmac.new(key, data, hashlib.sha256).digest(),
        ["BLOB", "BLOB"],
        "BLOB",
    )

    def execute(sql, returns_rows):
        back = sqlglot.transpile(sql, read="trino", write="duckdb")[0]
        return backend.query(back) if returns_rows else backend.con.execute(back)

    athena = AthenaEngine("db", execute=execute)
    athena.create_views(ATHENA_PARAMS)
    got = athena.query(queries.render(queries.load("tables", table), ATHENA_PARAMS)).to_pylist()
    assert got == expected
    assert all(
        "CREATE OR REPLACE VIEW" in s or s.startswith(("SELECT", "WITH", "/*"))
        for s in athena.statements
    )


def test_unknown_sql_fails_loudly():
    with pytest.raises(sqlglot.errors.ParseError):
        queries.to_dialect("SELECT FROM WHERE (", queries.ATHENA_DIALECT)
