"""The gold job's own lake I/O: reading silver, rewriting gold tables."""

import io

import awswrangler as wr
import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from todo_gold.engines import DuckDBEngine
from todo_gold.gold_writer import GoldWriter
from todo_gold.silver_reader import SilverReader
from todo_lake.s3io import ObjectError
from todo_lake.store import LakeStore

pytestmark = pytest.mark.integration

COLUMNS = {"user_id": pa.string(), "n": pa.int64(), "day": pa.string()}


def put_parquet(bucket, key, table):
    sink = io.BytesIO()
    pq.write_table(table, sink)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=sink.getvalue())


def keys(bucket, prefix):
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def write(names, table, rows, partition_cols=(), mode="overwrite_partitions"):
    writer = GoldWriter(names.gold_bucket, names.glue_database)
    writer.start({table: partition_cols})
    writer.write(table, rows, partition_cols, mode)
    return writer.finish()[table]


@pytest.fixture
def names(pipeline):
    return pipeline.names


def test_silver_is_read_with_its_partitions_gaps_filled_and_types_fixed(names, tmp_path):
    bucket = names.silver_bucket
    put_parquet(bucket, "t/day=2025-01-01/a.parquet", pa.table({"user_id": ["u1"], "x": [1]}))
    # An older file, written before column ``n`` existed, and a later one with
    # it, stored narrower than the type gold reads it as.
    later = pa.table({"user_id": ["u2", "u3"], "n": pa.array([5, 6], pa.int32())})
    put_parquet(bucket, "t/day=2025-01-02/b.parquet", later)
    reader = SilverReader(bucket)
    fetched = dict(reader.download(["t", "absent"], str(tmp_path)))
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet")) == [
        "t/day=2025-01-01/a.parquet",
        "t/day=2025-01-02/b.parquet",
    ]
    # What each file holds comes from its footer and its key.
    assert sorted((f.columns, f.rows) for f in fetched["t"]) == [
        (("user_id", "n", "day"), 2),
        (("user_id", "x", "day"), 1),
    ]
    assert fetched["absent"] == []
    assert reader.files_read == 2

    engine = DuckDBEngine(memory_mb=128)
    try:
        assert engine.register_files("t", fetched["t"], COLUMNS) == 3
        assert engine.register_files("absent", fetched["absent"], COLUMNS) == 0
        got = engine.query("SELECT * FROM t ORDER BY user_id")
        empty = engine.query("SELECT * FROM absent")
    finally:
        engine.close()
    assert got.schema == pa.schema(COLUMNS)
    assert got.to_pylist() == [
        {"user_id": "u1", "n": None, "day": "2025-01-01"},
        {"user_id": "u2", "n": 5, "day": "2025-01-02"},
        {"user_id": "u3", "n": 6, "day": "2025-01-02"},
    ]
    assert empty.num_rows == 0
    assert empty.schema == pa.schema(COLUMNS)


def test_silver_reader_fails_loudly_on_an_unreadable_object(names):
    with pytest.raises(ObjectError, match="HTTP 404"):
        SilverReader(names.silver_bucket).get_bytes("t/missing.parquet")


def test_an_object_that_is_not_parquet_fails_the_read_by_name(names, tmp_path):
    boto3.client("s3").put_object(
        Bucket=names.silver_bucket, Key="t/day=2025-01-01/bad.parquet", Body=b"not parquet"
    )
    with pytest.raises(ObjectError, match=r"bad\.parquet is not a Parquet file"):
        dict(SilverReader(names.silver_bucket).download(["t"], str(tmp_path)))


def test_rewrite_keeps_identical_files_and_replaces_changed_partitions(names):
    bucket, db = names.gold_bucket, names.glue_database
    day1 = pa.table({"v": [1, 2], "d": ["2025-01-01", "2025-01-01"]})
    day2 = pa.table({"v": [3], "d": ["2025-01-02"]})
    first = write(names, "g", pa.concat_tables([day1, day2]), ("d",))
    assert (first.files_written, first.files_unchanged, first.files_deleted) == (2, 0, 0)
    before = keys(bucket, "g/")
    # Each partition's version in a directory of its own, which the catalog names.
    assert [k.rsplit("/", 2)[0] for k in before] == ["g/d=2025-01-01", "g/d=2025-01-02"]
    partitions = wr.catalog.get_partitions(database=db, table="g")  # {location: values}
    assert sorted(partitions.values()) == [["2025-01-01"], ["2025-01-02"]]
    assert sorted(partitions) == sorted(f"s3://{bucket}/{k.rsplit('/', 1)[0]}/" for k in before)

    again = write(names, "g", pa.concat_tables([day1, day2]), ("d",))
    assert (again.files_written, again.files_unchanged, again.files_deleted) == (0, 2, 0)
    assert keys(bucket, "g/") == before

    # Day 2 changes; day 1 is not recomputed this time and stays as it was.
    changed = write(names, "g", pa.table({"v": [4], "d": ["2025-01-02"]}), ("d",))
    assert (changed.files_written, changed.files_unchanged, changed.files_deleted) == (1, 0, 1)
    after = keys(bucket, "g/")
    assert len(after) == 2
    assert after[0] == before[0]  # day 1 untouched
    assert after[1] != before[1]  # day 2 rewritten
    read = LakeStore(bucket, db).read_table("g")
    assert sorted(read.to_pylist(), key=lambda r: r["v"]) == [
        {"v": 1, "d": "2025-01-01"},
        {"v": 2, "d": "2025-01-01"},
        {"v": 4, "d": "2025-01-02"},
    ]


def test_a_file_left_by_a_crashed_run_is_cleaned_by_the_next(names):
    bucket = names.gold_bucket
    rows = pa.table({"v": [1]})
    write(names, "w", rows, (), "overwrite")
    put_parquet(bucket, "w/v-left-over/left-over.snappy.parquet", pa.table({"v": [99]}))
    outcome = write(names, "w", rows, (), "overwrite")
    assert (outcome.files_written, outcome.files_unchanged, outcome.files_deleted) == (0, 1, 1)
    assert len(keys(bucket, "w/")) == 1


def test_new_columns_reach_the_catalog_and_an_empty_result_empties_the_table(names):
    db = names.glue_database
    write(names, "w", pa.table({"v": [1]}), (), "overwrite")
    assert wr.catalog.get_table_types(database=db, table="w") == {"v": "bigint"}
    write(names, "w", pa.table({"v": [1], "extra": ["x"]}), (), "overwrite")
    assert wr.catalog.get_table_types(database=db, table="w") == {"v": "bigint", "extra": "string"}
    emptied = write(names, "w", pa.table({"v": pa.array([], pa.int64())}), (), "overwrite")
    assert emptied.files_deleted == 1
    assert keys(names.gold_bucket, "w/") == []
