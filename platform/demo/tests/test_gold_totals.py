"""Gold's totals: sums over gold's tables and the latest KPI snapshot, as JSON."""

from __future__ import annotations

import subprocess
import sys
import types
from typing import Any, Dict, List

import pytest

from todo_demo import gold_totals

TABLES: Dict[str, List[Dict[str, Any]]] = {
    "user_analytics": [
        {"tasks_created": 2, "total_events": 5},
        {"tasks_created": 3, "total_events": 4},
    ],
    "daily_task_metrics": [{"tasks_created": 4}, {"tasks_created": 1}],
    "kpi_snapshot": [
        {"as_of": "2026-01-01", "total_users": 1},
        {"as_of": "2026-01-02", "total_users": 2},
    ],
}


class FakeLakeStore:
    def __init__(self, bucket: str, database: str) -> None:
        assert (bucket, database) == ("gold-bucket", "db")

    def read_table(self, name: str) -> Any:
        return types.SimpleNamespace(to_pylist=lambda: TABLES[name])


def test_totals_sum_gold_and_take_the_latest_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    store = types.ModuleType("todo_lake.store")
    store.LakeStore = FakeLakeStore  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "todo_lake", types.ModuleType("todo_lake"))
    monkeypatch.setitem(sys.modules, "todo_lake.store", store)
    assert gold_totals.totals("gold-bucket", "db") == {
        "users": 2,
        "tasks_created": 5,
        "task_events": 9,
        "daily_created": 5,
        "kpi": {"total_users": 2},
    }


def test_the_script_runs_by_path_without_the_demo_package() -> None:
    """The ETL environment has no todo_demo: the script must not need it."""
    result = subprocess.run(
        [sys.executable, "-I", gold_totals.__file__, "only-one-argument"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "ValueError" in result.stderr  # the arguments, not an import, failed
    assert "ModuleNotFoundError" not in result.stderr
