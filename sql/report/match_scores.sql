-- The scores of the matches of open offers (binned by the report).
SELECT m.score
FROM matches AS m
JOIN job_offers AS o ON o.job_offer_id = m.job_offer_id
WHERE o.status = 'open' AND m.computed_at <= :as_of;
