-- Claim up to :limit planned messages of a finalised batch (every part rendered) whose retry
-- time has come (SQLite: the writer lock already serialises claimers).
UPDATE outbox
SET state = 'claimed', claimed_by = :token, claimed_at = :now
WHERE message_id IN (
    SELECT message_id FROM outbox
    WHERE batch_id = :batch_id AND state = 'planned' AND (retry_at IS NULL OR retry_at <= :now)
      AND EXISTS (SELECT 1 FROM dispatch_batches b WHERE b.batch_id = :batch_id AND b.finalised_at IS NOT NULL)
    LIMIT :limit
)
