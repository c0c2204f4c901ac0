"""SQL text helpers for the lake's engines: quoting, and fetching results as Arrow.

Silver's transform and gold's queries both build SQL around names and paths
that come from data (attribute names, S3 keys): everything interpolated into
SQL goes through :func:`quote_identifier` or :func:`quote_literal`.
"""

from __future__ import annotations

import warnings
from typing import Any

import pyarrow as pa


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (DuckDB and Trino quote alike)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``text`` as a quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def fetch_arrow(con: Any, sql: str) -> pa.Table:
    """Run ``sql`` on a DuckDB connection and return the result as an Arrow table.

    DuckDB 1.4 and 1.5 name the method differently and 1.5 warns about the
    older name; the warning is silenced so both versions behave the same.
    """
    result = con.execute(sql)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return result.fetch_arrow_table()
