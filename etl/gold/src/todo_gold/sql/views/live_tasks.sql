-- Tasks that exist now: per task, the row with the highest version wins (a
-- delete before a write of the same version), then the highest sequence
-- number: sequence numbers compare only within one stream, and a restored
-- table's new stream starts lower (silver's state order, silver_schema).
-- Deleted tasks (tombstones in silver) are left out. Taking the latest row
-- here too makes readers immune to a silver merge interrupted half-way.
-- Only the columns the gold tables read are kept (the view is materialised
-- once per run, and every column costs).
SELECT user_id, task_id, status, category, created_at, completed_at
FROM (
    SELECT
        t.*,
        row_number() OVER (
            PARTITION BY t.user_id, t.task_id
            ORDER BY t.version DESC, t.is_deleted DESC, t.sequence_number DESC
        ) AS state_rank
    FROM tasks AS t
) AS ranked
WHERE state_rank = 1 AND NOT is_deleted
