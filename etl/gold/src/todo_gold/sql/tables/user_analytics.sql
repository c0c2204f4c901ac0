-- One row per user: the operations runbook's columns (user_id, email, name
-- - both keyed HMACs unless --PII_MODE clear -, first_seen, last_updated, total_events, max_event_types; times in epoch
-- milliseconds) plus task counts. total_events counts the user's task
-- changes; max_event_types the distinct kinds of change (INSERT, MODIFY,
-- REMOVE) they made; changes_last_7_days / _30_days those in the 7 / 30 days
-- up to as_of. completion_rate = completed / existing tasks (METRICS.md).
WITH activity AS (
    SELECT
        user_id,
        COUNT(*) AS total_events,
        COUNT(DISTINCT event_name) AS max_event_types,
        CAST(SUM(CASE WHEN event_name = 'INSERT' THEN 1 ELSE 0 END) AS BIGINT) AS tasks_created,
        CAST(SUM(CASE WHEN event_time >= {week_since} AND event_time <= {as_of} THEN 1 ELSE 0 END) AS BIGINT) AS changes_last_7_days,
        CAST(SUM(CASE WHEN event_time >= {month_since} AND event_time <= {as_of} THEN 1 ELSE 0 END) AS BIGINT) AS changes_last_30_days,
        MIN(event_time) AS first_event,
        MAX(event_time) AS last_event
    FROM task_events
    GROUP BY user_id
),
holdings AS (
    SELECT
        user_id,
        COUNT(*) AS current_tasks,
        CAST(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS BIGINT) AS tasks_completed
    FROM live_tasks
    GROUP BY user_id
),
people AS (
    SELECT
        user_id,
        email,
        NULLIF(TRIM(CONCAT(COALESCE(given_name, ''), ' ', COALESCE(family_name, ''))), '') AS full_name,
        created_at,
        last_event_time
    FROM live_users
),
everyone AS (
    SELECT user_id FROM people
    UNION
    SELECT user_id FROM activity
)
SELECT
    e.user_id,
    -- Personal data leaves as keyed pseudonyms, computed here (todo_gold.pii).
    {email_value} AS email,
    {name_value} AS name,
    DATE_DIFF('millisecond', TIMESTAMP '1970-01-01 00:00:00',
        LEAST(COALESCE(p.created_at, a.first_event), COALESCE(a.first_event, p.created_at))) AS first_seen,
    DATE_DIFF('millisecond', TIMESTAMP '1970-01-01 00:00:00',
        GREATEST(COALESCE(p.last_event_time, a.last_event), COALESCE(a.last_event, p.last_event_time))) AS last_updated,
    COALESCE(a.total_events, 0) AS total_events,
    COALESCE(a.max_event_types, 0) AS max_event_types,
    COALESCE(a.tasks_created, 0) AS tasks_created,
    COALESCE(a.changes_last_7_days, 0) AS changes_last_7_days,
    COALESCE(a.changes_last_30_days, 0) AS changes_last_30_days,
    COALESCE(h.current_tasks, 0) AS current_tasks,
    COALESCE(h.tasks_completed, 0) AS tasks_completed,
    CAST(h.tasks_completed AS DOUBLE) / NULLIF(h.current_tasks, 0) AS completion_rate
FROM everyone AS e
LEFT JOIN people AS p ON p.user_id = e.user_id
LEFT JOIN activity AS a ON a.user_id = e.user_id
LEFT JOIN holdings AS h ON h.user_id = e.user_id
ORDER BY e.user_id
