-- Bounces and complaints per campaign (feedback that names one of our messages).
SELECT o.campaign,
       SUM(CASE WHEN f.kind = 'hard_bounce' THEN 1 ELSE 0 END) AS hard_bounces,
       SUM(CASE WHEN f.kind = 'soft_bounce' THEN 1 ELSE 0 END) AS soft_bounces,
       SUM(CASE WHEN f.kind = 'complaint' THEN 1 ELSE 0 END) AS complaints
FROM delivery_feedback AS f
JOIN outbox AS o ON o.message_id = f.message_id
WHERE f.recorded_at <= :as_of
GROUP BY o.campaign;
