"""Silver objects saved as local files: keys stay inside the work directory,
and the engine removes its directory when closed."""

import os

import pytest

from todo_gold.engines import DuckDBEngine
from todo_gold.silver_reader import local_path
from todo_silver.s3io import ObjectError


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
