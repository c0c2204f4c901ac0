"""Silver objects saved as local files: keys stay inside the work directory,
and the engine removes its directory when closed."""

import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from todo_gold.engines import DuckDBEngine
from todo_gold.silver_reader import LocalFile, local_path
from todo_lake.s3io import ObjectError


def test_a_key_becomes_a_path_under_the_directory(tmp_path):
    path = local_path(str(tmp_path), "tasks/day=2025-01-01/abc.snappy.parquet")
    assert path == os.path.join(str(tmp_path), "tasks", "day=2025-01-01", "abc.snappy.parquet")


@pytest.mark.parametrize(
    "key", ["", "../outside.parquet", "tasks/../../etc/passwd", "/abs.parquet", "t//x", "t/./x"]
)
def test_a_key_that_could_leave_the_directory_is_refused(tmp_path, key):
    with pytest.raises(ObjectError, match="refusing"):
        local_path(str(tmp_path), key)


def test_the_engine_removes_its_work_directory_when_closed(tmp_path):
    engine = DuckDBEngine(memory_mb=64, work_dir=str(tmp_path))
    (work,) = list(tmp_path.iterdir())
    (work / "tasks").mkdir()
    (work / "tasks" / "f.parquet").write_bytes(b"x")
    engine.close()
    assert list(tmp_path.iterdir()) == []


def test_a_column_stored_as_all_null_in_one_file_reads_with_its_type(tmp_path):
    """pyarrow writes an all-null column with the null type; it must not
    break the view or change the column's type."""
    (tmp_path / "t" / "day=1").mkdir(parents=True)
    (tmp_path / "t" / "day=2").mkdir(parents=True)
    old = tmp_path / "t" / "day=1" / "a.parquet"
    new = tmp_path / "t" / "day=2" / "b.parquet"
    pq.write_table(pa.table({"user_id": ["u1"], "category": pa.nulls(1, pa.null())}), old)
    pq.write_table(pa.table({"user_id": ["u2"], "category": ["work"]}), new)
    columns = {"user_id": pa.string(), "category": pa.string(), "day": pa.string()}
    engine = DuckDBEngine(memory_mb=64, work_dir=str(tmp_path))
    try:
        files = [LocalFile(str(p), ("user_id", "category", "day"), 1) for p in (old, new)]
        assert engine.register_files("t", files, columns) == 2
        got = engine.query("SELECT * FROM t ORDER BY user_id")
    finally:
        engine.close()
    assert got.schema == pa.schema(columns)
    assert got.to_pylist() == [
        {"user_id": "u1", "category": None, "day": "1"},
        {"user_id": "u2", "category": "work", "day": "2"},
    ]
