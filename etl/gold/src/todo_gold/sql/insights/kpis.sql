-- The latest KPI snapshot.
SELECT as_of, total_users, active_users, total_tasks, completed_tasks,
       completion_rate, avg_tasks_per_user
FROM kpi_snapshot
ORDER BY as_of DESC
LIMIT 1
