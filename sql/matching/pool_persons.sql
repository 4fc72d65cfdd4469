-- The people who may be matched as of :as_of: current consent for job offers (the consent ledger's
-- consent_current), whatever else they are. Only the columns the score uses are read: never the age
-- band or any other protected attribute. The language is the one the person asked for, else detected.
-- With :pool, only the members of that pool as of :as_of. Only the person ids from :first_id to
-- :last_id (one slice of the pool when a run is split; the whole id range otherwise).
SELECT
    p.person_id,
    COALESCE(p.preferred_language, p.language) AS language,
    p.country,
    p.city,
    p.furthest_stage_rank,
    p.is_silver_medalist,
    p.rejection_side,
    COALESCE(p.last_contact_at, p.last_rejected_at, p.last_applied_at) AS last_contact_at
FROM persons AS p
JOIN consent_current AS c ON c.person_id = p.person_id AND c.purpose = 'job_offers'
WHERE c.is_active AND (c.expires_at IS NULL OR c.expires_at > :as_of)
  AND p.person_id BETWEEN :first_id AND :last_id
  AND (CAST(:pool AS TEXT) IS NULL OR p.person_id IN (
      SELECT m.person_id FROM pool_members AS m JOIN pools AS pl ON pl.pool_id = m.pool_id
      WHERE pl.name = :pool AND m.joined_at <= :as_of AND (m.left_at IS NULL OR m.left_at > :as_of)))
ORDER BY p.person_id;
