-- The outcome of one delivery attempt that did not end in "sent" (run once per message with
-- executemany; the sent ones: record_sent.sql).
UPDATE outbox
SET state = :state, sent_at = :sent_at, last_error = :last_error, retry_at = :retry_at, attempts = attempts + 1
WHERE message_id = :message_id AND claimed_by = :token AND state = 'claimed'
