-- The offers of the run that are new or changed (their updated_at is this run's logical date).
SELECT
    SUM(CASE WHEN o.created_at = :as_of THEN 1 ELSE 0 END) AS created,
    SUM(CASE WHEN o.updated_at = :as_of THEN 1 ELSE 0 END) AS changed,
    SUM(CASE WHEN o.status = 'open' THEN 1 ELSE 0 END) AS open_offers,
    COUNT(*) AS offers
FROM job_offers AS o
JOIN stage_offers AS s ON s.source_system = o.source_system AND s.source_job_id = o.source_job_id;
