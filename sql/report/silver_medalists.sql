-- People and silver medalists per job family (people created up to the report date).
SELECT COALESCE(job_family, 'other') AS job_family,
       COUNT(*) AS people,
       SUM(CASE WHEN is_silver_medalist THEN 1 ELSE 0 END) AS silver_medalists
FROM persons
WHERE created_at <= :as_of
GROUP BY COALESCE(job_family, 'other');
