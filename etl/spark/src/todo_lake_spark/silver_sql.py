"""Silver's SQL (DuckDB's dialect, :mod:`todo_silver.sql_transform`) for Spark.

The transform is written once; sqlglot transpiles it, as gold's queries are
transpiled for Athena. Transpiling is not checking: sqlglot passes a few
DuckDB constructs through that Spark 3.5 cannot run, so the tree is
rewritten into Spark's equivalents first, each rule tested on both engines
(``tests/test_silver_sql.py``):

* ``make_timestamp(epoch_us(CAST(text AS TIMESTAMPTZ)))`` (the instant an
  ISO-8601 text names, as naive UTC) -> ``CAST(CAST(text AS TIMESTAMP_LTZ)
  AS TIMESTAMP_NTZ)``, which is the same in a UTC session (the lake's);
* ``epoch_ms(n)`` -> ``TIMESTAMP_MILLIS(n)``, made naive UTC (Spark's
  function returns a zoned timestamp, which Parquet would store as such);
* list comprehensions ``[x FOR x IN list IF cond]`` -> ``FILTER(list, x -> cond)``;
* ``SELECT * EXCLUDE (...)`` and ``QUALIFY`` -> explicit columns, from the
  columns of the tables the query reads (``columns``).
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify

__all__ = ["SOURCE_DIALECT", "SPARK_DIALECT", "to_spark"]

SOURCE_DIALECT = "duckdb"
SPARK_DIALECT = "spark"
_NTZ = exp.DataType.build("TIMESTAMP_NTZ", dialect=SPARK_DIALECT)
_LTZ = exp.DataType.build("TIMESTAMP_LTZ", dialect=SPARK_DIALECT)


def _is_timestamptz_cast(node: exp.Expression) -> bool:
    return isinstance(node, (exp.Cast, exp.TryCast)) and node.to.is_type(
        exp.DataType.Type.TIMESTAMPTZ
    )


def _instants(tree: exp.Expression) -> None:
    """``make_timestamp(epoch_us(CAST(x AS TIMESTAMPTZ)))`` and ``epoch_ms(n)``: naive UTC."""
    for node in list(tree.find_all(exp.UnixToTime)):
        scale = node.args.get("scale")
        inner = node.this
        if (
            isinstance(inner, exp.Anonymous)
            and inner.name.lower() == "epoch_us"
            and len(inner.expressions) == 1
            and _is_timestamptz_cast(inner.expressions[0])
        ):
            instant = inner.expressions[0].copy()
            instant.set("to", _LTZ.copy())
            node.replace(exp.Cast(this=instant, to=_NTZ.copy()))
        elif scale is not None and scale.name in ("3", "millis"):
            node.replace(exp.Cast(this=node.copy(), to=_NTZ.copy()))
        else:  # a form the silver SQL does not use: refuse rather than guess
            raise ValueError(f"no Spark rewrite for {node.sql(SOURCE_DIALECT)}")
    for node in tree.find_all(exp.Anonymous):
        if node.name.lower() in ("epoch_us", "epoch", "make_timestamp"):
            raise ValueError(f"no Spark rewrite for {node.sql(SOURCE_DIALECT)}")


def _comprehensions(tree: exp.Expression) -> None:
    """``[x FOR x IN list IF cond]`` -> ``FILTER(list, x -> cond)``."""
    for node in list(tree.find_all(exp.Comprehension)):
        array = node.parent
        variable = node.expression
        condition = node.args.get("condition")
        identity = isinstance(node.this, exp.Column) and node.this.name == variable.name
        if not (
            isinstance(array, exp.Array) and len(array.expressions) == 1 and identity and condition
        ):
            raise ValueError(f"no Spark rewrite for {array.sql(SOURCE_DIALECT)}")
        lambda_ = exp.Lambda(this=condition.copy(), expressions=[variable.copy()])
        array.replace(exp.ArrayFilter(this=node.args["iterator"].copy(), expression=lambda_))


def to_spark(sql: str, columns: Optional[Mapping[str, Sequence[str]]] = None) -> str:
    """``sql`` (DuckDB dialect) as Spark SQL; ``columns``: the columns of each
    table (view) it reads, needed to expand ``* EXCLUDE`` and ``QUALIFY``."""
    tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    if columns:
        schema = {table: dict.fromkeys(names, "VARCHAR") for table, names in columns.items()}
        tree = qualify(
            tree,
            schema=schema,
            # Names keep their case: an attribute "Labels" is not "labels"
            # (sqlglot would fold every name, as DuckDB compares them).
            dialect=f"{SOURCE_DIALECT}, normalization_strategy=case_sensitive",
            quote_identifiers=True,
            identify=True,
            validate_qualify_columns=False,
        )
    elif tree.find(exp.Qualify) is not None or any(
        star.args.get("except") or star.args.get("except_") for star in tree.find_all(exp.Star)
    ):
        raise ValueError("QUALIFY and * EXCLUDE need the columns of the tables read")
    _instants(tree)
    _comprehensions(tree)
    return tree.sql(dialect=SPARK_DIALECT, unsupported_level=sqlglot.ErrorLevel.RAISE)
