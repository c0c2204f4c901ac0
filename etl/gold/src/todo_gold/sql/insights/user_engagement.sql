-- Who uses the product most: the ten users with the most task changes in
-- the 30 days up to the latest gold run (then the last 7 days), with what
-- they hold now. Weekly and monthly active users are in `kpis`.
SELECT
    user_id,
    changes_last_30_days,
    changes_last_7_days,
    current_tasks,
    tasks_completed,
    completion_rate
FROM user_analytics
WHERE changes_last_30_days > 0
ORDER BY changes_last_30_days DESC, changes_last_7_days DESC, user_id
LIMIT 10
