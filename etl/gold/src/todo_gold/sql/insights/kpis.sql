-- The latest KPI snapshot, with weekly / monthly active users (WAU / MAU).
SELECT as_of, total_users, active_users, weekly_active_users, monthly_active_users,
       CAST(weekly_active_users AS DOUBLE) / NULLIF(monthly_active_users, 0) AS wau_per_mau,
       total_tasks, completed_tasks, completion_rate, avg_tasks_per_user
FROM kpi_snapshot
ORDER BY as_of DESC
LIMIT 1
