-- The offers of the run (stage_match_offers) with what matching reads; the city is the location's
-- first part ("Lyon, France" -> "Lyon").
SELECT o.job_offer_id, o.source_system, o.source_job_id, o.title, o.location, o.country, o.language, o.status
FROM job_offers AS o
JOIN stage_match_offers AS s ON s.job_offer_id = o.job_offer_id
ORDER BY o.job_offer_id;
