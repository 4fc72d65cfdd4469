-- Bulk messages each recipient already has in the frequency-cap window (any campaign).
SELECT o.person_id, COUNT(*) AS recent
FROM outbox o
JOIN dispatch_recipients r ON r.person_id = o.person_id
WHERE o.is_bulk
  AND o.state IN ('planned', 'claimed', 'sent', 'unknown')
  AND o.planned_at > :window_start AND o.planned_at <= :as_of
GROUP BY o.person_id
