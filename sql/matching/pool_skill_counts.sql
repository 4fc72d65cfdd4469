-- How many of the people who may be matched as of :as_of (as in pool_skills.sql; with :pool only that
-- pool's members) hold each skill: the skills' rarity over the whole pool, for a run split into slices.
-- (person_id, kind, value) is person_tags' key, so each row is one more holder.
SELECT t.value AS skill_id, COUNT(*) AS holders
FROM person_tags AS t
JOIN consent_current AS c ON c.person_id = t.person_id AND c.purpose = 'job_offers'
WHERE t.kind = 'skill' AND c.is_active AND (c.expires_at IS NULL OR c.expires_at > :as_of)
  AND (CAST(:pool AS TEXT) IS NULL OR t.person_id IN (
      SELECT m.person_id FROM pool_members AS m JOIN pools AS pl ON pl.pool_id = m.pool_id
      WHERE pl.name = :pool AND m.joined_at <= :as_of AND (m.left_at IS NULL OR m.left_at > :as_of)))
GROUP BY t.value
ORDER BY t.value;
