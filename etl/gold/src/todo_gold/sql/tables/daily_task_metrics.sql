-- Per UTC day of change (definitions: METRICS.md): tasks created, tasks
-- completed (distinct tasks whose status moved to completed that day, at
-- creation too: completed, reopened and completed again counts once),
-- deleted, updates, daily active users (anyone who changed a task that UTC
-- day), events, completions per creation (completed / created that day: not
-- a completion rate, it exceeds 1 when older tasks are finished), and
-- is_partial_day (the day had not ended at as_of: its counts will grow).
-- The counts are taken once in per_day (a distinct count is the costly part)
-- and the ratio is derived from them.
WITH per_day AS (
    SELECT
        event_date,
        CAST(SUM(CASE WHEN event_name = 'INSERT' THEN 1 ELSE 0 END) AS BIGINT) AS tasks_created,
        CAST(COUNT(DISTINCT CASE WHEN status_changed AND status_to = 'completed' THEN user_id || '#' || task_id END) AS BIGINT) AS tasks_completed,
        CAST(SUM(CASE WHEN event_name = 'REMOVE' THEN 1 ELSE 0 END) AS BIGINT) AS tasks_deleted,
        CAST(SUM(CASE WHEN event_name = 'MODIFY' THEN 1 ELSE 0 END) AS BIGINT) AS task_updates,
        COUNT(DISTINCT user_id) AS daily_active_users,
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
    daily_active_users,
    events,
    CAST(tasks_completed AS DOUBLE) / NULLIF(tasks_created, 0) AS completions_per_creation,
    CAST(event_date AS DATE) >= CAST({as_of} AS DATE) AS is_partial_day,
    CAST(event_date AS VARCHAR) AS metric_date
FROM per_day
ORDER BY metric_date
