"""Arrow types (silver's schemas, :mod:`todo_lake.silver_schema` and the tables'
kept schemas) as Spark types, and back.

Silver's tables keep their schema as Arrow (``_state/schemas/<table>.arrow``,
:mod:`todo_lake.store`); the Spark engine reads and writes by the same
schemas, converted here. Timestamps are naive UTC (``TIMESTAMP_NTZ``), as
the lake's session settings make them.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

__all__ = ["arrow_schema", "same_type", "spark_schema", "spark_type"]


def spark_type(kind: pa.DataType, json_input: bool = False) -> Any:
    """The Spark type of an Arrow type. ``json_input``: the type ``from_json``
    parses a value into (timestamps and untyped nulls as their text)."""
    from pyspark.sql import types as T

    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return T.StringType()
    if pa.types.is_null(kind):
        return T.StringType() if json_input else T.NullType()
    if pa.types.is_boolean(kind):
        return T.BooleanType()
    if pa.types.is_integer(kind):
        return T.LongType() if kind.bit_width == 64 else T.IntegerType()
    if pa.types.is_floating(kind):
        return T.DoubleType()
    if pa.types.is_timestamp(kind):
        return T.StringType() if json_input else T.TimestampNTZType()
    if pa.types.is_date(kind):
        return T.DateType()
    if pa.types.is_binary(kind):
        return T.BinaryType()
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return T.ArrayType(spark_type(kind.value_type, json_input), True)
    if pa.types.is_struct(kind):
        return T.StructType(
            [
                T.StructField(kind.field(i).name, spark_type(kind.field(i).type, json_input), True)
                for i in range(kind.num_fields)
            ]
        )
    raise TypeError(f"no Spark type for {kind}")


def spark_schema(schema: pa.Schema, json_input: bool = False) -> Any:
    """A Spark schema of nullable columns (Spark writes non-nullable columns as
    ``required``, which pyarrow then reads as a different schema)."""
    from pyspark.sql import types as T

    return T.StructType(
        [T.StructField(f.name, spark_type(f.type, json_input), True) for f in schema]
    )


def arrow_schema(frame: Any) -> pa.Schema:
    """A DataFrame's columns as the Arrow types Spark writes them as."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(frame.schema)


def same_type(a: pa.DataType, b: pa.DataType) -> bool:
    """Equal types, whatever their list items are called (Spark's ``element``,
    pyarrow's ``item``)."""
    if pa.types.is_list(a) and pa.types.is_list(b):
        return same_type(a.value_type, b.value_type)
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        return a.num_fields == b.num_fields and all(
            a.field(i).name == b.field(i).name and same_type(a.field(i).type, b.field(i).type)
            for i in range(a.num_fields)
        )
    return a == b
