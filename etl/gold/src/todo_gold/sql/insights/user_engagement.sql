-- Users grouped by how much they use the product, and the most active users.
SELECT
    CASE
        WHEN total_events >= 50 THEN '50+ changes'
        WHEN total_events >= 10 THEN '10-49 changes'
        WHEN total_events >= 1 THEN '1-9 changes'
        ELSE 'no changes'
    END AS engagement,
    COUNT(*) AS users,
    CAST(SUM(tasks_created) AS BIGINT) AS tasks_created,
    CAST(SUM(tasks_completed) AS BIGINT) AS tasks_completed,
    CAST(SUM(tasks_completed) AS DOUBLE) / NULLIF(SUM(current_tasks), 0) AS completion_rate
FROM user_analytics
GROUP BY 1
ORDER BY MIN(total_events) DESC
