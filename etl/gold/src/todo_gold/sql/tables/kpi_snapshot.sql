-- The business KPIs as of the run, with the metrics collector's definitions:
-- TotalUsers = user profiles; ActiveUsers = users with a task change in the
-- 24 hours up to as_of; TotalTasks = existing tasks; CompletedTasks =
-- existing tasks whose status is completed; CompletionRate = completed /
-- total and AvgTasksPerUser = tasks / users (NULL when the divisor is 0).
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
    SELECT COUNT(DISTINCT user_id) AS active_users
    FROM task_events
    WHERE event_time >= {active_since} AND event_time <= {as_of}
)
SELECT
    {as_of} AS as_of,
    u.total_users,
    a.active_users,
    t.total_tasks,
    t.completed_tasks,
    CAST(t.completed_tasks AS DOUBLE) / NULLIF(t.total_tasks, 0) AS completion_rate,
    CAST(t.total_tasks AS DOUBLE) / NULLIF(u.total_users, 0) AS avg_tasks_per_user,
    CAST(CAST({as_of} AS DATE) AS VARCHAR) AS snapshot_date
FROM task_counts AS t
CROSS JOIN user_counts AS u
CROSS JOIN active AS a
