-- How many messages of a batch are in each state (the batch record's counts).
SELECT state, COUNT(*) FROM outbox WHERE batch_id = :batch_id GROUP BY state
