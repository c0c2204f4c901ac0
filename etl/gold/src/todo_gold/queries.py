"""The gold SQL: written once (DuckDB dialect, in ``sql/``), run as is on
DuckDB, transpiled to Athena's dialect (Trino) by sqlglot for ``--ENGINE
athena``.

``sql/views`` define the current-state views the table queries read,
``sql/tables`` the gold tables, ``sql/insights`` the named queries of
``todo-insights``. Parameters are ``{name}`` placeholders replaced by SQL
literals before parsing.
"""

from __future__ import annotations

import datetime as dt
from typing import Dict, List, Mapping

import sqlglot

from todo_core import lake
from todo_lake.sql import quote_literal

try:  # Python 3.9 has files() too; keep the import local to one place
    from importlib.resources import files
except ImportError:  # pragma: no cover
    from importlib_resources import files  # type: ignore

SOURCE_DIALECT = "duckdb"
ATHENA_DIALECT = "trino"
VIEWS = ("live_tasks", "live_users")
#: The silver table each view reads (a view can be built once its table is in).
VIEW_SOURCES = {"live_tasks": lake.SILVER_TASKS, "live_users": lake.SILVER_USERS}
#: The gold tables in the order a run computes them: the one with the most
#: files first, so its writes overlap the other queries.
TABLES = (
    lake.GOLD_DAILY_TASK_METRICS,
    lake.GOLD_USER_ANALYTICS,
    lake.GOLD_CATEGORY_ANALYTICS,
    lake.GOLD_KPI_SNAPSHOT,
)
INSIGHTS = ("kpis", "completion_trend", "top_categories", "user_engagement")


def load(kind: str, name: str) -> str:
    return (files("todo_gold") / "sql" / kind / f"{name}.sql").read_text(encoding="utf-8")


def names(kind: str) -> List[str]:
    return sorted(
        p.name[: -len(".sql")]
        for p in (files("todo_gold") / "sql" / kind).iterdir()
        if p.name.endswith(".sql")
    )


def timestamp_literal(moment: dt.datetime) -> str:
    """A naive-UTC TIMESTAMP literal (silver timestamps are naive UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return f"TIMESTAMP '{moment.isoformat(sep=' ', timespec='milliseconds')}'"


def render(sql: str, params: Mapping[str, str]) -> str:
    for name, literal in params.items():
        sql = sql.replace("{" + name + "}", literal)
    return sql


def to_dialect(sql: str, dialect: str) -> str:
    """``sql`` (DuckDB dialect) in another dialect; raises on anything sqlglot cannot parse."""
    if dialect == SOURCE_DIALECT:
        return sql
    statements = sqlglot.transpile(
        sql, read=SOURCE_DIALECT, write=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE
    )
    if len(statements) != 1:
        raise ValueError(f"expected one statement, got {len(statements)}")
    return statements[0]


def parameters(as_of: dt.datetime, since: dt.date) -> Dict[str, str]:
    return {
        "as_of": timestamp_literal(as_of),
        "active_since": timestamp_literal(as_of - dt.timedelta(hours=24)),
        "week_since": timestamp_literal(as_of - dt.timedelta(days=7)),
        "month_since": timestamp_literal(as_of - dt.timedelta(days=30)),
        "since_date": quote_literal(since.isoformat()),
    }
