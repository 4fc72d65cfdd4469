-- Claim up to :limit planned messages of a batch whose retry time has come; concurrent senders
-- skip each other's rows instead of waiting for them.
UPDATE outbox
SET state = 'claimed', claimed_by = :token, claimed_at = :now
WHERE message_id IN (
    SELECT message_id FROM outbox
    WHERE batch_id = :batch_id AND state = 'planned' AND (retry_at IS NULL OR retry_at <= :now)
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
