-- The skills (and the alias that revealed each) of the people who may be matched as of :as_of
-- (with :pool, only the members of that pool), person ids from :first_id to :last_id only.
SELECT t.person_id, t.value AS skill_id, t.evidence
FROM person_tags AS t
JOIN consent_current AS c ON c.person_id = t.person_id AND c.purpose = 'job_offers'
WHERE t.kind = 'skill' AND c.is_active AND (c.expires_at IS NULL OR c.expires_at > :as_of)
  AND t.person_id BETWEEN :first_id AND :last_id
  AND (CAST(:pool AS TEXT) IS NULL OR t.person_id IN (
      SELECT m.person_id FROM pool_members AS m JOIN pools AS pl ON pl.pool_id = m.pool_id
      WHERE pl.name = :pool AND m.joined_at <= :as_of AND (m.left_at IS NULL OR m.left_at > :as_of)))
ORDER BY t.person_id, t.value;
