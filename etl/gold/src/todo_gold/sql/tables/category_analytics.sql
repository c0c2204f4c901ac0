-- Per category of the tasks that exist now ("uncategorized" for none):
-- totals, completion rate, mean hours from creation to completion.
SELECT
    COALESCE(category, 'uncategorized') AS category,
    COUNT(*) AS total_tasks,
    CAST(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS BIGINT) AS completed_tasks,
    CAST(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*) AS completion_rate,
    -- The mean of whole seconds (an exact integer sum), then hours: the same
    -- rows give the same bits whatever order the threads add them in.
    AVG(CASE WHEN status = 'completed' AND completed_at IS NOT NULL
        THEN DATE_DIFF('second', created_at, completed_at) END) / 3600.0 AS avg_hours_to_complete,
    COUNT(DISTINCT user_id) AS users
FROM live_tasks
GROUP BY COALESCE(category, 'uncategorized')
ORDER BY total_tasks DESC, category
