-- The business KPIs as of the run (definitions: METRICS.md): the metrics
-- collector's six (active_users = users with a task change in the 24 hours
-- up to as_of; completion_rate = completed / existing tasks, a 0-1 ratio;
-- NULL when the divisor is 0) plus weekly and monthly active users (a task
-- change in the 7 / 30 days up to as_of).
WITH task_counts AS (
    SELECT
        COUNT(*) AS total_tasks,
        COALESCE(CAST(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS BIGINT), 0) AS completed_tasks
    FROM live_tasks
),
user_counts AS (
    SELECT COUNT(*) AS total_users FROM live_users
),
active AS (
    SELECT
        COUNT(DISTINCT CASE WHEN event_time >= {active_since} THEN user_id END) AS active_users,
        COUNT(DISTINCT CASE WHEN event_time >= {week_since} THEN user_id END) AS weekly_active_users,
        COUNT(DISTINCT user_id) AS monthly_active_users
    FROM task_events
    WHERE event_time >= {month_since} AND event_time <= {as_of}
)
SELECT
    {as_of} AS as_of,
    u.total_users,
    a.active_users,
    t.total_tasks,
    t.completed_tasks,
    CAST(t.completed_tasks AS DOUBLE) / NULLIF(t.total_tasks, 0) AS completion_rate,
    CAST(t.total_tasks AS DOUBLE) / NULLIF(u.total_users, 0) AS avg_tasks_per_user,
    a.weekly_active_users,
    a.monthly_active_users,
    CAST(CAST({as_of} AS DATE) AS VARCHAR) AS snapshot_date
FROM task_counts AS t
CROSS JOIN user_counts AS u
CROSS JOIN active AS a
