"""The catalog and partition rules silver and gold share (catalog, partitions)."""

from __future__ import annotations

from typing import Dict, List, Optional

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from todo_lake import catalog
from todo_lake.catalog import athena_types, evolved_columns
from todo_lake.partitions import key_partitions, partition_directory, split_partitions


def test_a_new_table_gets_every_data_column() -> None:
    assert evolved_columns(None, {"a": "string", "d": "string"}, ["d"]) == {"a": "string"}


def test_a_table_with_every_column_is_left_alone() -> None:
    existing = {"a": "string", "b": "bigint", "d": "string"}
    assert evolved_columns(existing, {"a": "string", "d": "string"}, ["d"]) is None


def test_a_new_column_is_added_and_the_catalogs_types_stand() -> None:
    existing = {"a": "string", "b": "bigint", "d": "string"}
    merged = evolved_columns(existing, {"a": "int", "b": "double", "c": "boolean"}, ["d"])
    # The old columns keep their catalog type, in their order; the partition
    # key is never a data column.
    assert merged == {"a": "string", "b": "bigint", "c": "boolean"}
    assert list(merged) == ["a", "b", "c"]


def test_athena_types_leave_partition_columns_out() -> None:
    schema = pa.schema([("n", pa.int64()), ("s", pa.string()), ("event_date", pa.string())])
    assert athena_types(schema, ["event_date"]) == {"n": "bigint", "s": "string"}


def test_partition_directories_are_hive_style() -> None:
    assert partition_directory(["a", "b"], ["1", "x"]) == "a=1/b=x/"
    assert partition_directory([], []) == ""


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["2025-01-01", "2025-01-02", "x"]),
            st.integers(0, 3),
            st.integers(-(2**63), 2**63 - 1),
        ),
        max_size=40,
    )
)
def test_split_partitions_keeps_every_row_once_in_its_partition(rows: List[tuple]) -> None:
    table = pa.table(
        {
            "day": [r[0] for r in rows],
            "bucket": [r[1] for r in rows],
            "value": pa.array([r[2] for r in rows], pa.int64()),
        }
    )
    pieces = split_partitions(table, ["day", "bucket"])
    seen: Dict[tuple, List[Optional[int]]] = {}
    for values, piece in pieces:
        assert piece.column_names == ["value"]
        assert values not in seen
        seen[values] = piece.column("value").to_pylist()
    expected: Dict[tuple, List[Optional[int]]] = {}
    for day, bucket, value in rows:
        expected.setdefault((day, str(bucket)), []).append(value)
    assert seen == expected


def test_an_unpartitioned_table_is_one_piece() -> None:
    table = pa.table({"a": [1, 2]})
    [(values, piece)] = split_partitions(table, [])
    assert values == ()
    assert piece.equals(table)


def test_catalog_calls_reuse_one_client_per_service(monkeypatch: pytest.MonkeyPatch) -> None:
    # awswrangler asks its session for a client on every call: the catalog's
    # session hands out the same one while the AWS environment is the same.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    first = catalog.session()
    assert first is catalog.session()
    glue = first.client("glue")
    assert first.client(service_name="glue") is glue
    assert first.client("s3") is not glue
    assert glue.meta.endpoint_url == "http://127.0.0.1:1"


def test_another_aws_environment_gets_new_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    before = catalog.session().client("glue")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:2")
    after = catalog.session().client("glue")
    assert after is not before
    assert after.meta.endpoint_url == "http://127.0.0.1:2"


_NAME = st.text(st.characters(whitelist_categories=("Ll", "Nd")), min_size=1, max_size=8)
_VALUE = st.text(
    st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="-_.:="),
    min_size=1,
    max_size=12,
)


@given(st.lists(st.tuples(_NAME, _VALUE), max_size=3, unique_by=lambda p: p[0]))
def test_a_keys_partitions_read_back_what_the_directory_was_made_of(pairs) -> None:
    columns, values = [c for c, _ in pairs], [v for _, v in pairs]
    key = "table/" + partition_directory(columns, values) + "part-0.snappy.parquet"
    assert key_partitions(key) == pairs


def test_a_file_name_with_an_equals_sign_is_not_a_partition() -> None:
    assert key_partitions("t/day=2025-01-01/a=b.parquet") == [("day", "2025-01-01")]
