-- Claim up to :limit planned messages of a batch whose retry time has come (SQLite: the writer
-- lock already serialises claimers).
UPDATE outbox
SET state = 'claimed', claimed_by = :token, claimed_at = :now
WHERE message_id IN (
    SELECT message_id FROM outbox
    WHERE batch_id = :batch_id AND state = 'planned' AND (retry_at IS NULL OR retry_at <= :now)
    LIMIT :limit
)
