-- Categories by number of existing tasks.
SELECT category, total_tasks, completed_tasks, completion_rate, avg_hours_to_complete, users
FROM category_analytics
ORDER BY total_tasks DESC, category
LIMIT 10
