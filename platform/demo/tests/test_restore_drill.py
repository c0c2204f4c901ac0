"""The restore drill passes: after restoring the table into a new one and
moving the API and both stream readers onto it, silver and gold equal what
the API holds, with no change lost or counted twice across the old and the
new stream (``todo_demo.restore_drill``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from todo_demo.restore_drill import run_drill


def test_the_restore_drill_ends_with_the_lake_equal_to_the_api(tmp_path: Path) -> None:
    etl_python = os.environ.get("TODO_ETL_PYTHON")
    if not etl_python:
        pytest.fail("TODO_ETL_PYTHON is not set: run `python3 noxfile.py -s tests-todo-demo-3.12`")
    result = run_drill(etl_python, log_dir=str(tmp_path))
    print(f"recovery time {result.recovery_seconds:.1f}s, lake {result.lake_seconds:.1f}s")
    assert result.failures == []
    # Writes on the old table after the backup reached the new table by the replay.
    assert result.rolled_forward.deletes >= 2
