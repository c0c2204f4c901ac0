"""The type-drift rule: widen to text, conform to one schema."""

import pyarrow as pa

from todo_lake import drift
from todo_lake.catalog import evolved_columns


def test_a_type_change_widens_to_text_and_a_new_column_is_appended():
    first = pa.schema([("a", pa.int64()), ("b", pa.string())])
    later = pa.schema([("a", pa.string()), ("c", pa.float64()), ("d", pa.null())])
    assert drift.widen(first, later) == pa.schema(
        [("a", pa.string()), ("b", pa.string()), ("c", pa.float64())]
    )
    assert drift.widen(None, first) == first


def test_conform_gives_exactly_the_schema_and_keeps_every_value_as_text():
    target = pa.schema([("a", pa.string()), ("b", pa.int64())])
    rows = pa.table({"a": pa.array([3, None]), "x": pa.nulls(2)})
    rows = rows.drop_columns(["x"])
    out = drift.conform(rows, target)
    assert out.schema == target
    assert out.to_pylist() == [{"a": "3", "b": None}, {"a": None, "b": None}]
    nested = pa.table({"a": pa.array([{"n": 3}])})
    assert drift.conform(nested, target).column("a").to_pylist() == ['{"n":3}']


def test_the_catalog_widens_a_column_to_string_and_keeps_other_types():
    existing = {"a": "bigint", "b": "string", "day": "string"}
    assert evolved_columns(existing, {"a": "string", "b": "string"}, ["day"]) == {
        "a": "string",
        "b": "string",
    }
    assert evolved_columns(existing, {"a": "double"}, ["day"]) is None
