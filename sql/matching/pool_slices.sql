-- The people who may be matched as of :as_of (as in pool_persons.sql: current consent for job offers,
-- with :pool only that pool's members) cut into :slices contiguous person_id ranges of (nearly) equal
-- head counts: each slice's first and last person_id and its head count, in person_id order.
SELECT s.slice, MIN(s.person_id) AS first_id, MAX(s.person_id) AS last_id, COUNT(*) AS people
FROM (
    SELECT p.person_id, NTILE(:slices) OVER (ORDER BY p.person_id) AS slice
    FROM persons AS p
    JOIN consent_current AS c ON c.person_id = p.person_id AND c.purpose = 'job_offers'
    WHERE c.is_active AND (c.expires_at IS NULL OR c.expires_at > :as_of)
      AND (CAST(:pool AS TEXT) IS NULL OR p.person_id IN (
          SELECT m.person_id FROM pool_members AS m JOIN pools AS pl ON pl.pool_id = m.pool_id
          WHERE pl.name = :pool AND m.joined_at <= :as_of AND (m.left_at IS NULL OR m.left_at > :as_of)))
) AS s
GROUP BY s.slice
ORDER BY s.slice;
