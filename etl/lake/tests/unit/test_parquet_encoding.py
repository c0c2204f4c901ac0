"""The one Parquet encoding every lake write uses (``todo_lake.store.encode_parquet``)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from todo_lake.store import encode_parquet


def _column_chunks(body: bytes) -> dict:
    meta = pq.ParquetFile(io.BytesIO(body)).metadata.row_group(0)
    return {meta.column(i).path_in_schema: meta.column(i) for i in range(meta.num_columns)}


def test_rows_round_trip_with_snappy() -> None:
    table = pa.table({"event_id": ["a", "b"], "status": ["pending", "pending"], "version": [1, 2]})

    body = encode_parquet(table)

    assert pq.read_table(io.BytesIO(body)).equals(table)
    assert {c.compression for c in _column_chunks(body).values()} == {"SNAPPY"}


def test_only_repetitive_text_columns_are_dictionary_encoded() -> None:
    table = pa.table(
        {
            "event_id": [f"e{i}" for i in range(100)],  # mostly unique: plain
            "status": ["pending", "completed"] * 50,  # repetitive: dictionary
            "version": list(range(100)),  # numbers: plain
        }
    )

    chunks = _column_chunks(encode_parquet(table))

    assert chunks["status"].has_dictionary_page
    assert not chunks["event_id"].has_dictionary_page
    assert not chunks["version"].has_dictionary_page
