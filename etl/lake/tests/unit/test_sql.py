"""Quoting for SQL built around names and paths that come from data."""

import duckdb
import pyarrow as pa
import pytest

from todo_lake.sql import fetch_arrow, quote_identifier, quote_literal

AWKWARD = ["plain", 'with "quotes"', "it's", 'x"; DROP TABLE t; --', "ünïcode"]


@pytest.mark.parametrize("name", AWKWARD)
def test_a_quoted_identifier_names_exactly_that_column(name):
    con = duckdb.connect()
    got = fetch_arrow(con, f"SELECT 1 AS {quote_identifier(name)}")
    assert got.column_names == [name]


@pytest.mark.parametrize("text", AWKWARD)
def test_a_quoted_literal_is_exactly_that_text(text):
    con = duckdb.connect()
    got = fetch_arrow(con, f"SELECT {quote_literal(text)} AS v")
    assert got.column("v").to_pylist() == [text]


def test_results_come_back_as_arrow_tables():
    got = fetch_arrow(duckdb.connect(), "SELECT 1::BIGINT AS n, 'a' AS s")
    assert isinstance(got, pa.Table)
    assert got.schema == pa.schema([("n", pa.int64()), ("s", pa.string())])
