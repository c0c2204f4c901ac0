-- User profiles that exist now: per user, the row with the highest version
-- wins, then a delete, then the highest sequence number, as for tasks
-- (live_tasks; silver's state order): sequence numbers compare only within
-- one stream, and a restored table's new stream starts lower. A profile
-- written before profiles had versions has none: it ranks as version 0,
-- below every written one. Deletions are left out.
-- {users_table}: silver's users, which Athena finds in the PII database.
SELECT *
FROM (
    SELECT
        u.*,
        row_number() OVER (
            PARTITION BY u.user_id
            ORDER BY coalesce(u.version, 0) DESC, u.is_deleted DESC, u.sequence_number DESC
        ) AS state_rank
    FROM {users_table} AS u
) AS ranked
WHERE state_rank = 1 AND NOT is_deleted
