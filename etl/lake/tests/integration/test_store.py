"""LakeStore against the emulator: one file per partition, registered in the
catalog, read back with partition values and evolved columns."""

import awswrangler as wr
import pyarrow as pa
import pytest

from todo_lake.store import LakeStore

pytestmark = pytest.mark.integration


def test_partitions_are_written_once_registered_and_read_back(names):
    store = LakeStore(names.silver_bucket, names.glue_database)
    first = pa.table({"id": ["a", "b"], "n": pa.array([1, 2], pa.int64())})
    later = pa.table({"id": ["c"], "n": pa.array([3], pa.int64()), "extra": ["x"]})
    written = store.write_partitions(
        "t", "day", [("2025-01-01", first), ("2025-01-02", lambda: later)], "run1_"
    )
    assert written == 3
    files = store.partition_files("t", "day")
    assert sorted(files) == ["2025-01-01", "2025-01-02"]
    assert all(len(keys) == 1 and "/run1_" in keys[0] for keys in files.values())

    # The column that came later is in the catalog; the partition key is not a data column.
    types = wr.catalog.get_table_types(database=names.glue_database, table="t")
    assert types == {"id": "string", "n": "bigint", "extra": "string", "day": "string"}
    partitions = wr.catalog.get_partitions(database=names.glue_database, table="t")
    assert sorted(partitions.values()) == [["2025-01-01"], ["2025-01-02"]]

    read = store.read_table("t")
    rows = sorted(read.to_pylist(), key=lambda r: r["id"])
    assert rows == [
        {"id": "a", "n": 1, "day": "2025-01-01", "extra": None},
        {"id": "b", "n": 2, "day": "2025-01-01", "extra": None},
        {"id": "c", "n": 3, "day": "2025-01-02", "extra": "x"},
    ]
    only = store.read_files(files["2025-01-02"], columns=["id", "day"])
    assert only.to_pylist() == [{"id": "c", "day": "2025-01-02"}]


def test_an_empty_piece_writes_nothing_and_drop_table_removes_data_and_entry(names):
    store = LakeStore(names.silver_bucket, names.glue_database)
    empty = pa.table({"id": pa.array([], pa.string())})
    assert store.write_partitions("t", "day", [("2025-01-01", empty)]) == 0
    assert store.data_files("t") == []
    store.write_partitions("t", "day", [("2025-01-01", pa.table({"id": ["a"]}))])
    assert len(store.data_files("t")) == 1
    store.drop_table("t")
    assert store.data_files("t") == []
    assert not wr.catalog.does_table_exist(database=names.glue_database, table="t")
    assert store.read_table("t") is None


def test_json_objects_round_trip_and_deletes_go_in_batches(names):
    store = LakeStore(f"s3://{names.silver_bucket}/", names.glue_database)
    store.put_json("_state/x.json", {"b": [1, 2], "a": None})
    assert store.get_json("_state/x.json") == {"a": None, "b": [1, 2]}
    keys = [f"many/{i:04d}" for i in range(1001)]
    for key in keys:
        store.put_bytes(key, b"")
    store.delete_keys(iter(keys))
    assert store.list_keys("many/") == []


def test_the_catalog_is_read_in_one_call_per_database_and_per_table(names):
    from todo_lake import catalog

    store = LakeStore(names.silver_bucket, names.glue_database)
    store.write_partitions("t", "day", [("2025-01-01", pa.table({"id": ["a"]}))])
    tables = catalog.database_tables(names.glue_database)
    assert tables["t"] == {"id": "string", "day": "string"}
    assert catalog.partition_values(names.glue_database, "t") == {("2025-01-01",)}
    assert catalog.partition_values(names.glue_database, "no_such_table") == set()
