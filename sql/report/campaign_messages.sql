-- Messages per campaign, from the batch records planned up to the report date.
SELECT campaign,
       COUNT(*) AS batches,
       SUM(messages) AS messages,
       SUM(planned) AS planned,
       SUM(sent) AS sent,
       SUM(failed) AS failed,
       SUM(unknown) AS unknown,
       SUM(skipped) AS skipped,
       SUM(CASE WHEN planned_at > :since THEN messages ELSE 0 END) AS messages_in_window
FROM dispatch_batches
WHERE planned_at <= :as_of
GROUP BY campaign;
