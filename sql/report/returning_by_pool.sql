-- Re-applications and hires per pool: applications made after the applicant joined that pool.
SELECT p.name AS pool,
       COUNT(DISTINCT a.person_id) AS people,
       COUNT(DISTINCT a.application_id) AS reapplications,
       COUNT(DISTINCT CASE WHEN a.status = 'hired' THEN a.application_id END) AS hires
FROM pool_members AS m
JOIN pools AS p ON p.pool_id = m.pool_id
JOIN applications AS a ON a.person_id = m.person_id AND a.applied_at > m.joined_at AND a.applied_at <= :as_of
WHERE m.joined_at <= :as_of
GROUP BY p.name;
