"""De-duplication of a run's rows: one row per key, the first by the given
order (nulls last); rows are split by partition without losing or moving any,
and tables whose columns differ are concatenated without losing values."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from todo_silver.tables import (
    first_per_key,
    key_strings,
    one_chunk,
    split_by,
    unify,
    with_partition,
)

KEY = ("user_id", "task_id", "sequence_number")

ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "user_id": st.sampled_from(["u1", "u2", None]),
            "task_id": st.sampled_from(["t1", "t2", "t3"]),
            "sequence_number": st.sampled_from(["100", "200"]),
            "order": st.one_of(st.none(), st.integers(0, 3)),
        }
    ),
    max_size=25,
)


def _table(rows: List[Dict[str, Any]]) -> pa.Table:
    return pa.table(
        {
            "user_id": pa.array([r["user_id"] for r in rows], pa.string()),
            "task_id": pa.array([r["task_id"] for r in rows], pa.string()),
            "sequence_number": pa.array([r["sequence_number"] for r in rows], pa.string()),
            "order": pa.array([r["order"] for r in rows], pa.int64()),
            "ordinal": pa.array(range(len(rows)), pa.int64()),
        }
    )


def _expected(rows: List[Dict[str, Any]]) -> Optional[List[int]]:
    """The ordinals of the first row per key (``order`` ascending, nulls last,
    then ordinal), or None when no key repeats."""
    best: Dict[Tuple[Any, ...], Tuple[Tuple[int, int], int]] = {}
    for ordinal, row in enumerate(rows):
        key = tuple(row[k] for k in KEY)
        rank = (1, 0) if row["order"] is None else (0, row["order"])
        if key not in best or (rank, ordinal) < best[key]:
            best[key] = (rank, ordinal)
    if len(best) == len(rows):
        return None
    return sorted(ordinal for _, ordinal in best.values())


@settings(max_examples=200, deadline=None)
@given(ROWS)
def test_one_row_per_key_the_first_by_order(rows: List[Dict[str, Any]]) -> None:
    got = first_per_key(_table(rows), KEY, ("order", "ordinal"))
    expected = _expected(rows)
    if expected is None:
        assert got is None, "unique keys: the caller keeps the rows as they are"
    else:
        assert got is not None
        assert sorted(got.column("ordinal").to_pylist()) == expected


def test_a_repeated_event_keeps_its_first_delivery() -> None:
    rows = [
        {"user_id": "u1", "task_id": "t1", "sequence_number": "100", "order": 5},
        {"user_id": "u1", "task_id": "t1", "sequence_number": "200", "order": 1},
        {"user_id": "u1", "task_id": "t1", "sequence_number": "100", "order": 2},
        {"user_id": "u1", "task_id": "t1", "sequence_number": "100", "order": None},
    ]
    got = first_per_key(_table(rows), KEY, ("order", "ordinal"))
    assert got is not None
    assert sorted(got.column("ordinal").to_pylist()) == [1, 2]


def test_keys_unique_in_their_last_column_are_unique() -> None:
    rows = [
        {"user_id": "u1", "task_id": "t1", "sequence_number": "100", "order": 1},
        {"user_id": "u1", "task_id": "t1", "sequence_number": "200", "order": 1},
    ]
    assert first_per_key(_table(rows), KEY, ("order",)) is None


def test_keys_unique_only_as_a_whole_are_unique() -> None:
    rows = [
        {"user_id": "u1", "task_id": "t1", "sequence_number": "100", "order": 1},
        {"user_id": "u2", "task_id": "t1", "sequence_number": "200", "order": 1},
        {"user_id": "u1", "task_id": "t2", "sequence_number": "200", "order": 1},
        {"user_id": "u2", "task_id": "t2", "sequence_number": "100", "order": 1},
    ]
    assert first_per_key(_table(rows), KEY, ("order",)) is None


def test_key_text_tells_a_missing_value_from_every_other_and_orders_the_parts() -> None:
    table = pa.table(
        {
            "a": pa.array(["x", None, "y", "x"], pa.string()),
            "b": pa.array([1, 1, None, 2], pa.int64()),
        }
    )
    texts = key_strings(table, ("a", "b")).to_pylist()
    assert len(set(texts)) == 4
    assert texts[0] == "x\x1f1"
    assert key_strings(table, ("b",)).to_pylist() == ["1", "1", "\x00", "2"]


# --- rows by partition --------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["2025-01-01", "2025-01-02", "2025-01-03"]), max_size=40))
def test_split_by_gives_every_row_once_under_its_value(values: List[str]) -> None:
    table = pa.table({"part": pa.array(values, pa.string()), "n": pa.array(range(len(values)))})
    got = list(split_by(table, "part"))
    assert [v for v, _ in got] == sorted(set(values))
    for value, rows in got:
        assert rows.column_names == ["n"]
        assert rows.column("n").to_pylist() == [i for i, v in enumerate(values) if v == value]


def test_split_by_with_many_alternations_filters_instead_of_slicing() -> None:
    values = ["a", "b"] * 300  # more than 256 runs
    table = pa.table({"part": values, "n": list(range(600))})
    got = dict(split_by(table, "part"))
    assert got["a"].column("n").to_pylist() == list(range(0, 600, 2))
    assert got["b"].column("n").to_pylist() == list(range(1, 600, 2))


def test_split_by_refuses_rows_without_a_partition_value() -> None:
    table = pa.table({"part": pa.array(["a", None], pa.string()), "n": [1, 2]})
    with pytest.raises(ValueError, match=r"^rows without a part$"):
        list(split_by(table, "part"))
    assert list(split_by(table.slice(0, 0), "part")) == []


def test_with_partition_puts_the_value_on_every_row() -> None:
    table = with_partition(pa.table({"n": [1, 2]}), "created_date", "2025-01-02")
    assert table.column("created_date").to_pylist() == ["2025-01-02", "2025-01-02"]
    assert table.schema.field("created_date").type == pa.string()


# --- tables whose columns differ ------------------------------------------------------------


def test_unify_keeps_every_row_and_fills_missing_columns_with_nulls() -> None:
    first = pa.table({"a": [1, 2]})
    second = pa.table({"a": [3], "b": ["x"]})
    got = unify([first, None, pa.table({"a": pa.array([], pa.int64())}), second])
    assert got is not None
    assert got.to_pydict() == {"a": [1, 2, 3], "b": [None, None, "x"]}
    assert unify([None, first.slice(0, 0)]) is None
    assert unify([first]) is first


def test_unify_turns_a_column_of_conflicting_types_into_text() -> None:
    first = pa.table({"a": [1], "b": [True]})
    second = pa.table({"a": ["one"], "b": [False]})
    got = unify([first, second])
    assert got is not None
    assert got.schema.field("a").type == pa.string()
    assert got.column("b").to_pylist() == [True, False]
    assert got.column("a").to_pylist() == ["1", "one"]


# --- tables in several chunks (what concatenation and reads give) ---------------------------


def _chunked(table: pa.Table, cuts: List[int]) -> pa.Table:
    """The same rows in chunks cut at ``cuts``."""
    bounds = [0, *sorted(min(c, table.num_rows) for c in cuts), table.num_rows]
    return pa.concat_tables([table.slice(a, b - a) for a, b in zip(bounds, bounds[1:])])


def test_one_chunk_joins_chunks_and_keeps_a_single_one_as_it_is() -> None:
    values = pa.chunked_array([[1, 2], [3], [4, 5]], pa.int64())
    joined = one_chunk(values)
    assert isinstance(joined, pa.Array)
    assert joined.to_pylist() == [1, 2, 3, 4, 5]
    single = pa.chunked_array([[1, 2]], pa.int64())
    assert one_chunk(single).buffers()[1].address == single.chunk(0).buffers()[1].address
    assert one_chunk(pa.chunked_array([], pa.int64())).to_pylist() == []


@settings(max_examples=100, deadline=None)
@given(ROWS, st.lists(st.integers(0, 25), max_size=3))
def test_rows_in_several_chunks_give_the_same_first_rows(
    rows: List[Dict[str, Any]], cuts: List[int]
) -> None:
    table = _chunked(_table(rows), cuts)
    got = first_per_key(table, KEY, ("order", "ordinal"))
    expected = _expected(rows)
    if expected is None:
        assert got is None
    else:
        assert got is not None
        assert sorted(got.column("ordinal").to_pylist()) == expected


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["2025-01-01", "2025-01-02"]), max_size=30),
    st.lists(st.integers(0, 30), max_size=3),
)
def test_split_by_gives_every_row_once_from_chunked_tables(
    values: List[str], cuts: List[int]
) -> None:
    table = pa.table({"part": pa.array(values, pa.string()), "n": pa.array(range(len(values)))})
    got = list(split_by(_chunked(table, cuts), "part"))
    assert [v for v, _ in got] == sorted(set(values))
    for value, rows in got:
        assert rows.column("n").to_pylist() == [i for i, v in enumerate(values) if v == value]


def test_a_key_of_one_column_keeps_the_first_row_of_each_value() -> None:
    table = pa.table({"user_id": ["u1", "u2", "u1", None, None], "order": [3, 1, 2, 5, 4]})
    got = first_per_key(table, ("user_id",), ("order",))
    assert got is not None
    assert sorted(got.to_pylist(), key=repr) == sorted(
        [
            {"user_id": "u1", "order": 2},
            {"user_id": "u2", "order": 1},
            {"user_id": None, "order": 4},
        ],
        key=repr,
    )
    assert first_per_key(table.slice(0, 2), ("user_id",), ("order",)) is None
