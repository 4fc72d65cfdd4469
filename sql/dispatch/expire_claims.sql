-- Messages claimed by a sender that died before recording the outcome: the server may or may not
-- have taken them, so they become 'unknown' (reported, never resent blindly).
UPDATE outbox
SET state = 'unknown', last_error = 'claimed by a sender that stopped before recording the outcome'
WHERE batch_id = :batch_id AND state = 'claimed' AND claimed_at < :cutoff
