"""Silver's and gold's rows as JSON on stdout: what the restore drill compares
with the API.

Run in the Glue jobs' environment (it reads the lake with the jobs' own
store), by path, as ``python lake_state.py SILVER_BUCKET GOLD_BUCKET
DATABASE``; like ``gold_totals.py`` it imports nothing from the demo package,
which that environment does not have.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Dict, List, Optional, Sequence

TASK_COLUMNS = ("user_id", "task_id", "version", "sequence_number", "is_deleted", "status", "title")
USER_COLUMNS = ("user_id", "version", "sequence_number", "is_deleted", "email", "last_seen_at")
EVENT_COLUMNS = ("user_id", "task_id", "version", "event_name")


def _rows(store: Any, table: str, columns: Sequence[str]) -> List[Dict[str, Any]]:
    rows: Optional[Any] = store.read_table(table)
    if rows is None:
        return []
    present = [c for c in columns if c in rows.column_names]
    return [{c: row.get(c) for c in columns} for row in rows.select(present).to_pylist()]


def state(silver_bucket: str, gold_bucket: str, database: str) -> Dict[str, Any]:
    from todo_lake.store import LakeStore

    silver = LakeStore(silver_bucket, database)
    gold = LakeStore(gold_bucket, database)
    kpis = gold.read_table("kpi_snapshot")
    return {
        "silver": {
            "tasks": _rows(silver, "tasks", TASK_COLUMNS),
            "users": _rows(silver, "users", USER_COLUMNS),
            "task_events": _rows(silver, "task_events", EVENT_COLUMNS),
        },
        "gold": {
            "user_analytics": _rows(
                gold,
                "user_analytics",
                ("user_id", "total_events", "tasks_created", "current_tasks", "tasks_completed"),
            ),
            "kpi": max(kpis.to_pylist(), key=lambda row: row["as_of"]) if kpis else None,
        },
    }


def main(argv: List[str]) -> int:
    silver_bucket, gold_bucket, database = argv
    print(json.dumps(state(silver_bucket, gold_bucket, database), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
