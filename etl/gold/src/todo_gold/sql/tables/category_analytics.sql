-- Per category of the tasks that exist now ("uncategorized" for none):
-- totals, completion rate, mean hours from creation to completion.
SELECT
    COALESCE(category, 'uncategorized') AS category,
    COUNT(*) AS total_tasks,
    CAST(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS BIGINT) AS completed_tasks,
    CAST(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*) AS completion_rate,
    -- The mean of whole seconds, then hours: an exact integer sum divided by
    -- the count, so the same rows give the same bits whatever order the
    -- threads add them in, and on every engine (AVG's division is not the
    -- same floating-point operation on all of them). Both timestamps are truncated
    -- to the second first: DuckDB's DATE_DIFF counts second boundaries
    -- crossed, Spark's and Trino's whole seconds elapsed.
    CAST(SUM(CASE WHEN status = 'completed' AND completed_at IS NOT NULL
        THEN DATE_DIFF('second', DATE_TRUNC('second', created_at), DATE_TRUNC('second', completed_at)) END) AS DOUBLE)
        / COUNT(CASE WHEN status = 'completed' AND completed_at IS NOT NULL THEN 1 END)
        / 3600.0 AS avg_hours_to_complete,
    COUNT(DISTINCT user_id) AS users
FROM live_tasks
GROUP BY COALESCE(category, 'uncategorized')
ORDER BY total_tasks DESC, category
