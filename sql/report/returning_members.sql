-- Applications made after the applicant first joined a pool: re-applications of pool members,
-- and the hires among them (the outcome the talent pools exist for).
SELECT a.application_id, a.person_id, a.applied_at, a.status
FROM applications AS a
JOIN (
    SELECT person_id, MIN(joined_at) AS first_joined_at
    FROM pool_members
    WHERE joined_at <= :as_of
    GROUP BY person_id
) AS f ON f.person_id = a.person_id
WHERE a.applied_at > f.first_joined_at AND a.applied_at <= :as_of;
