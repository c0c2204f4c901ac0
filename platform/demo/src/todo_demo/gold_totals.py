"""Gold's totals as JSON on stdout: what the demo checks against the API.

Run in the Glue jobs' environment (it reads the lake with the jobs' own
reader), by path, as ``python gold_totals.py GOLD_BUCKET DATABASE``; it
imports nothing from the demo package, which that environment does not have.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Dict, List


def totals(gold_bucket: str, database: str) -> Dict[str, Any]:
    from todo_lake.store import LakeStore

    gold = LakeStore(gold_bucket, database)
    users: List[Dict[str, Any]] = gold.read_table("user_analytics").to_pylist()
    daily: List[Dict[str, Any]] = gold.read_table("daily_task_metrics").to_pylist()
    kpis: List[Dict[str, Any]] = gold.read_table("kpi_snapshot").to_pylist()
    kpi = max(kpis, key=lambda row: row["as_of"])
    return {
        "users": len(users),
        "tasks_created": sum(user["tasks_created"] for user in users),
        "task_events": sum(user["total_events"] for user in users),
        "daily_created": sum(day["tasks_created"] for day in daily),
        "kpi": {name: value for name, value in kpi.items() if name != "as_of"},
    }


def main(argv: List[str]) -> int:
    gold_bucket, database = argv
    print(json.dumps(totals(gold_bucket, database), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
