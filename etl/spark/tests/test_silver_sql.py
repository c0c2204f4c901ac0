"""Silver's SQL, transpiled for Spark, gives on Spark what it gives on DuckDB
(each rewrite of :mod:`todo_lake_spark.silver_sql` run on both engines)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from todo_lake.sql import fetch_arrow
from todo_lake_spark.silver_sql import to_spark
from todo_silver.sql_transform import _typed, latest_sql


def _both(spark, sql, rows, columns, schema, views=None):
    """``sql`` over a table ``t`` of ``rows`` on DuckDB and, transpiled, on Spark."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t ({', '.join(f'{c} {k}' for c, k in zip(columns, schema))})")
    if rows:
        con.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in columns)})", rows)  # noqa: S608 - the tests' own literals
    on_duckdb = fetch_arrow(con, sql).to_pylist()
    spark.createDataFrame(
        rows, ", ".join(f"{c} {k}" for c, k in zip(columns, spark_types(schema)))
    ).createOrReplaceTempView("t")
    on_spark = [r.asDict(recursive=True) for r in spark.sql(to_spark(sql, views)).collect()]
    return on_duckdb, on_spark


def spark_types(schema):
    return ["string" if k == "VARCHAR" else k.lower() for k in schema]


offsets = st.one_of(
    st.just("Z"),
    st.just(""),
    st.builds(
        lambda sign, h, m, colon: f"{sign}{h:02d}{':' if colon else ''}{m:02d}",
        st.sampled_from("+-"),
        st.integers(0, 14),
        st.sampled_from([0, 30, 45]),
        st.booleans(),
    ),
)
moments = st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2060, 1, 1))


@settings(max_examples=4, deadline=None)
@given(st.lists(st.tuples(moments, offsets, st.booleans()), min_size=1, max_size=20))
def test_iso_text_with_any_offset_is_the_same_utc_instant(spark, values):
    rows = [
        (
            (m.isoformat(timespec="microseconds") if frac else m.replace(microsecond=0).isoformat())
            + off,
        )
        for m, off, frac in values
    ]
    rows += [("not a time",), (None,)]
    sql = f"SELECT v, {_typed('v', 'TIMESTAMP')} AS ts FROM t ORDER BY v"  # noqa: S608 - the tests' own literals
    on_duckdb, on_spark = _both(spark, sql, rows, ["v"], ["VARCHAR"])
    assert on_spark == on_duckdb


def test_dates(spark):
    rows = [("2025-03-01",), ("1999-12-31",), ("2025-02-30",), ("soon",), (None,)]
    sql = f"SELECT v, {_typed('v', 'DATE')} AS d FROM t ORDER BY v"  # noqa: S608 - the tests' own literals
    on_duckdb, on_spark = _both(spark, sql, rows, ["v"], ["VARCHAR"])
    assert on_spark == on_duckdb


def test_epoch_millis_and_their_day(spark):
    rows = [(0,), (1735689600123,), (1740873599999,)]
    sql = "SELECT epoch_ms(n) AS at, strftime(epoch_ms(n), '%Y-%m-%d') AS day FROM t ORDER BY n"
    on_duckdb, on_spark = _both(spark, sql, rows, ["n"], ["BIGINT"])
    assert on_spark == on_duckdb
    assert on_spark[1]["at"] == dt.datetime(2025, 1, 1, 0, 0, 0, 123000)


def test_list_comprehensions_keep_order_and_drop_nulls(spark):
    rows = [("a", None), (None, None), ("x", "y")]
    sql = (
        "SELECT [x FOR x IN [CASE WHEN a IS NOT NULL THEN 'a' END, "
        "CASE WHEN b IS NOT NULL THEN 'b' END, 'c'] IF x IS NOT NULL] AS l FROM t ORDER BY a, b"
    )
    on_duckdb, on_spark = _both(spark, sql, rows, ["a", "b"], ["VARCHAR", "VARCHAR"])
    assert on_spark == on_duckdb


def test_latest_row_per_key_by_silvers_order(spark):
    rows = [
        ("u", "t1", 1, False, "0002"),
        ("u", "t1", 2, False, "0001"),  # a higher version from a newer stream's lower number
        ("u", "t1", 2, True, "0001"),  # a delete wins at equal versions
        ("u", "t2", None, False, "0009"),
        ("u", "t2", 1, False, "0003"),
    ]
    columns = ["user_id", "task_id", "version", "is_deleted", "sequence_number"]
    sql = latest_sql("t", ("user_id", "task_id"), versioned=True) + " ORDER BY task_id"
    on_duckdb, on_spark = _both(
        spark,
        sql,
        rows,
        columns,
        ["VARCHAR", "VARCHAR", "BIGINT", "BOOLEAN", "VARCHAR"],
        {"t": columns},
    )
    assert on_spark == on_duckdb
    assert [(r["task_id"], r["version"], r["is_deleted"]) for r in on_spark] == [
        ("t1", 2, True),
        ("t2", 1, False),
    ]


def test_forms_without_a_rewrite_are_refused():
    with pytest.raises(ValueError, match="no Spark rewrite"):
        to_spark("SELECT epoch_us(ts) FROM t")
    with pytest.raises(ValueError, match="columns"):
        to_spark("SELECT * EXCLUDE (a) FROM t")


def test_attribute_names_keep_their_case_when_columns_are_expanded():
    sql = 'SELECT * EXCLUDE (b) FROM (SELECT e."img"."Labels" AS labels, 1 AS b FROM ev e)'
    spark_sql = to_spark(sql, {"ev": ["img"]})
    assert "`Labels`" in spark_sql
