"""Large silver objects are fetched by column: only the chunks of the columns
gold reads, saved at their offsets in a sparse local file that DuckDB reads
as if it were the whole object."""

import io
import os
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from todo_gold import silver_reader
from todo_gold.engines import DuckDBEngine
from todo_gold.silver_reader import SilverReader, chunk_ranges
from todo_lake.s3io import ObjectError

pytestmark = pytest.mark.integration

WANTED = {"user_id": pa.string(), "n": pa.int64(), "status": pa.string(), "day": pa.string()}


@pytest.fixture
def bucket(pipeline):
    return pipeline.names.silver_bucket


@pytest.fixture
def ranged(monkeypatch):
    """Every object read by ranges; a tail shorter than the footer; no merging."""
    monkeypatch.setattr(silver_reader, "WHOLE_OBJECT_BYTES", 0)
    monkeypatch.setattr(silver_reader, "TAIL_BYTES", 64)
    monkeypatch.setattr(silver_reader, "MERGE_GAP_BYTES", 0)


def silver_rows(n):
    return pa.table(
        {
            # Unwanted and large (it is fetched only if the ranges are wrong).
            "event_id": [f"event-{i:06d}-" + "x" * 40 for i in range(n)],
            "user_id": [f"u{i % 7}" for i in range(n)],
            "payload": [str(i) * 20 for i in range(n)],
            "n": list(range(n)),
            "status": [("open", "completed")[i % 2] for i in range(n)],  # dictionary pages
        }
    )


def put_parquet(bucket, key, table, **options):
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=sink.getvalue())
    return sink.getvalue()


def read_back(files):
    engine = DuckDBEngine(memory_mb=128)
    try:
        engine.register_files("t", files, WANTED)
        return engine.query("SELECT * FROM t ORDER BY n").to_pylist()
    finally:
        engine.close()


def test_only_the_wanted_columns_are_fetched_and_read_as_the_whole_object(bucket, tmp_path, ranged):
    rows = silver_rows(3000)
    body = put_parquet(bucket, "t/day=2025-01-01/a.parquet", rows, row_group_size=700)
    whole = dict(SilverReader(bucket).download(["t"], str(tmp_path / "whole")))
    by_column = dict(SilverReader(bucket).download({"t": WANTED}, str(tmp_path / "cols")))

    (local,) = by_column["t"]
    assert (local.columns, local.rows) == ((*rows.column_names, "day"), 3000)
    saved = Path(local.path).read_bytes()
    assert len(saved) == len(body)
    # The unwanted columns' chunks are holes; the wanted ones are the object's bytes.
    footer = pq.read_metadata(local.path)
    for group in range(footer.num_row_groups):
        for c in range(footer.num_columns):
            chunk = footer.row_group(group).column(c)
            start = chunk.dictionary_page_offset or chunk.data_page_offset
            piece = slice(start, start + chunk.total_compressed_size)
            if chunk.path_in_schema in WANTED:
                assert saved[piece] == body[piece]
            else:
                assert saved[piece].count(0) == chunk.total_compressed_size
    expected = [
        {"user_id": r["user_id"], "n": r["n"], "status": r["status"], "day": "2025-01-01"}
        for r in rows.to_pylist()
    ]
    assert read_back(by_column["t"]) == read_back(whole["t"]) == expected


def test_small_objects_are_fetched_whole_even_when_columns_are_named(bucket, tmp_path):
    body = put_parquet(bucket, "t/day=2025-01-02/b.parquet", silver_rows(10))
    (local,) = dict(SilverReader(bucket).download({"t": WANTED}, str(tmp_path)))["t"]
    assert Path(local.path).read_bytes() == body


def test_a_large_object_that_is_not_parquet_fails_the_read_by_name(bucket, tmp_path, ranged):
    key = "t/day=2025-01-01/bad.parquet"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"x" * 500)
    with pytest.raises(ObjectError, match=r"bad\.parquet is not a Parquet file"):
        dict(SilverReader(bucket).download({"t": WANTED}, str(tmp_path)))


def test_chunks_closer_than_the_gap_are_read_in_one_request(tmp_path, monkeypatch):
    path = str(tmp_path / "f.parquet")
    pq.write_table(silver_rows(2000), path, row_group_size=500)
    footer = pq.read_metadata(path)
    size = os.path.getsize(path)
    monkeypatch.setattr(silver_reader, "MERGE_GAP_BYTES", 0)
    apart = chunk_ranges(footer, WANTED, size)
    # user_id, n and status are separated by unwanted columns: 3 ranges per row group.
    assert len(apart) == 3 * footer.num_row_groups
    monkeypatch.setattr(silver_reader, "MERGE_GAP_BYTES", size)
    assert chunk_ranges(footer, WANTED, size) == [(apart[0][0], apart[-1][1])]
    # What lies after the limit (the tail already read) is not asked for again.
    assert chunk_ranges(footer, WANTED, apart[0][0]) == []
