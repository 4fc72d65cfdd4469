-- The messages of a chunk the server accepted, in one statement (their outcomes are all alike).
UPDATE outbox
SET state = 'sent', sent_at = :sent_at, last_error = NULL, retry_at = NULL, attempts = attempts + 1
WHERE message_id IN :message_ids AND claimed_by = :token AND state = 'claimed'
