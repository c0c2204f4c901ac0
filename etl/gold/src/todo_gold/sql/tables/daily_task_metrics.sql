-- Per day (UTC) of change: tasks created, tasks completed (distinct tasks
-- whose status moved to completed that day, at creation too: a task
-- completed, reopened and completed again counts once), deleted, updates,
-- active users (anyone who changed a task that day).
-- completion_rate = completed / created that day (it can exceed 1 when older
-- tasks are finished).
-- The counts are taken once in per_day (a distinct count is the costly part)
-- and the rate is derived from them.
WITH per_day AS (
    SELECT
        event_date,
        CAST(SUM(CASE WHEN event_name = 'INSERT' THEN 1 ELSE 0 END) AS BIGINT) AS tasks_created,
        CAST(COUNT(DISTINCT CASE WHEN status_changed AND status_to = 'completed' THEN user_id || '#' || task_id END) AS BIGINT) AS tasks_completed,
        CAST(SUM(CASE WHEN event_name = 'REMOVE' THEN 1 ELSE 0 END) AS BIGINT) AS tasks_deleted,
        CAST(SUM(CASE WHEN event_name = 'MODIFY' THEN 1 ELSE 0 END) AS BIGINT) AS task_updates,
        COUNT(DISTINCT user_id) AS active_users,
        COUNT(*) AS events
    FROM task_events
    WHERE event_date >= {since_date}
    GROUP BY event_date
)
SELECT
    tasks_created,
    tasks_completed,
    tasks_deleted,
    task_updates,
    active_users,
    events,
    CAST(tasks_completed AS DOUBLE) / NULLIF(tasks_created, 0) AS completion_rate,
    CAST(event_date AS VARCHAR) AS metric_date
FROM per_day
ORDER BY metric_date
