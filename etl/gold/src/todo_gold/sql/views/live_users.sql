-- User profiles that exist now (latest row per user, deletions left out).
-- {users_table}: silver's users, which Athena finds in the PII database.
SELECT *
FROM (
    SELECT
        u.*,
        row_number() OVER (PARTITION BY u.user_id ORDER BY u.sequence_number DESC) AS state_rank
    FROM {users_table} AS u
) AS ranked
WHERE state_rank = 1 AND NOT is_deleted
