-- Every open offer with the number of people matched to it and their best and mean score.
SELECT o.job_offer_id, o.source_system, o.source_job_id, o.title, o.job_family,
       COUNT(m.person_id) AS matches,
       MAX(m.score) AS best_score,
       AVG(m.score) AS mean_score
FROM job_offers AS o
LEFT JOIN matches AS m ON m.job_offer_id = o.job_offer_id AND m.computed_at <= :as_of
WHERE o.status = 'open' AND o.created_at <= :as_of
GROUP BY o.job_offer_id, o.source_system, o.source_job_id, o.title, o.job_family
ORDER BY matches DESC, o.job_offer_id;
