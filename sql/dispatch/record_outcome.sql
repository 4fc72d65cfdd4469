-- The outcome of one delivery attempt (run once per message with executemany).
UPDATE outbox
SET state = :state, sent_at = :sent_at, last_error = :last_error, retry_at = :retry_at, attempts = attempts + 1
WHERE message_id = :message_id AND claimed_by = :token AND state = 'claimed'
