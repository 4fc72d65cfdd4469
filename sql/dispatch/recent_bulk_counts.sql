-- Bulk messages each recipient already has in the frequency-cap window (any campaign): in the
-- outbox, and staged for a batch still being rendered in parts (not in the outbox yet).
SELECT person_id, SUM(recent) AS recent
FROM (
    SELECT o.person_id, COUNT(*) AS recent
    FROM outbox o
    JOIN dispatch_recipients r ON r.person_id = o.person_id
    WHERE o.is_bulk
      AND o.state IN ('planned', 'claimed', 'sent', 'unknown')
      AND o.planned_at > :window_start AND o.planned_at <= :as_of
    GROUP BY o.person_id
    UNION ALL
    SELECT s.person_id, COUNT(*) AS recent
    FROM dispatch_stage_people s
    JOIN dispatch_recipients r ON r.person_id = s.person_id
    JOIN dispatch_batches b ON b.batch_id = s.batch_id
    WHERE b.kind = 'bulk' AND b.planned_at > :window_start AND b.planned_at <= :as_of
    GROUP BY s.person_id
) counted
GROUP BY person_id
