"""The demo's verdict: gold's totals against what the API accepted."""

from __future__ import annotations

from typing import Any, Dict, List, Optional


def verify(
    expected: Dict[str, int],
    gold: Dict[str, Any],
    counters: Optional[Dict[str, int]],
    published: Optional[Dict[str, float]] = None,
) -> List[str]:
    kpi = gold["kpi"]
    checks = [
        ("gold kpi_snapshot TotalUsers", kpi["total_users"], expected["users"]),
        ("gold kpi_snapshot TotalTasks", kpi["total_tasks"], expected["tasks"]),
        ("gold kpi_snapshot CompletedTasks", kpi["completed_tasks"], expected["completed"]),
        ("gold kpi_snapshot ActiveUsers", kpi["active_users"], expected["active_users"]),
        ("gold user_analytics users", gold["users"], expected["users"]),
        ("gold user_analytics sum(tasks_created)", gold["tasks_created"], expected["creates"]),
        (
            "gold user_analytics sum(total_events)",
            gold["task_events"],
            expected["creates"] + expected["updates"],
        ),
        ("gold daily_task_metrics sum(tasks_created)", gold["daily_created"], expected["creates"]),
    ]
    if counters is not None:
        checks += [
            ("API KPI counters TotalTasks", counters["total_tasks"], expected["tasks"]),
            ("API KPI counters CompletedTasks", counters["completed_tasks"], expected["completed"]),
            ("API KPI counters TotalUsers", counters["total_users"], expected["users"]),
        ]
    if published is not None:
        # Same definitions on both sides; the collector publishes the rate in percent.
        for metric, column, scale in (
            ("TotalUsers", "total_users", 1),
            ("ActiveUsers", "active_users", 1),
            ("TotalTasks", "total_tasks", 1),
            ("CompletedTasks", "completed_tasks", 1),
            ("CompletionRate", "completion_rate", 100),
            ("AvgTasksPerUser", "avg_tasks_per_user", 1),
        ):
            if metric in published and kpi.get(column) is not None:
                checks.append(
                    (
                        f"metrics collector {metric} vs gold",
                        round(float(published[metric]), 6),
                        round(float(kpi[column]) * scale, 6),
                    )
                )
    failures = []
    for what, got, want in checks:
        ok = got == want
        print(f"  {'ok ' if ok else 'FAIL'} {what}: {got} (expected {want})", flush=True)
        if not ok:
            failures.append(f"{what}: {got} != {want}")
    return failures
