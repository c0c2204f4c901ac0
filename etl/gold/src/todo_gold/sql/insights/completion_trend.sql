-- Per UTC day, the most recent 30 days with activity: tasks created,
-- completions, completions per creation, daily active users; the current
-- day flagged (is_partial_day) because its counts are still growing.
SELECT metric_date, tasks_created, tasks_completed, completions_per_creation,
       daily_active_users, is_partial_day
FROM (
    SELECT metric_date, tasks_created, tasks_completed, completions_per_creation,
           daily_active_users, is_partial_day
    FROM daily_task_metrics
    ORDER BY metric_date DESC
    LIMIT 30
) AS recent
ORDER BY metric_date
