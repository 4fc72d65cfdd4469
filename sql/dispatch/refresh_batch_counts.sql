-- The batch record's counts by outbox state.
UPDATE dispatch_batches
SET planned = (SELECT COUNT(*) FROM outbox o WHERE o.batch_id = dispatch_batches.batch_id AND o.state IN ('planned', 'claimed')),
    sent = (SELECT COUNT(*) FROM outbox o WHERE o.batch_id = dispatch_batches.batch_id AND o.state = 'sent'),
    failed = (SELECT COUNT(*) FROM outbox o WHERE o.batch_id = dispatch_batches.batch_id AND o.state = 'failed'),
    unknown = (SELECT COUNT(*) FROM outbox o WHERE o.batch_id = dispatch_batches.batch_id AND o.state = 'unknown'),
    skipped = (SELECT COUNT(*) FROM outbox o WHERE o.batch_id = dispatch_batches.batch_id AND o.state = 'skipped'),
    messages = (SELECT COUNT(*) FROM outbox o WHERE o.batch_id = dispatch_batches.batch_id)
WHERE batch_id = :batch_id
