-- Tasks created and completed per day, most recent 30 days with activity.
SELECT metric_date, tasks_created, tasks_completed, active_users, completion_rate
FROM (
    SELECT metric_date, tasks_created, tasks_completed, active_users, completion_rate
    FROM daily_task_metrics
    ORDER BY metric_date DESC
    LIMIT 30
) AS recent
ORDER BY metric_date
