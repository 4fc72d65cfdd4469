-- Turn the computed members (pool_target) into membership history (pool_members), idempotently.
-- Stays of refreshed pools whose person is no longer a member end at :as_of.
UPDATE pool_members SET left_at = :as_of
WHERE left_at IS NULL
  AND pool_id IN (SELECT pool_id FROM pool_refreshed)
  AND NOT EXISTS (
      SELECT 1 FROM pool_target AS t WHERE t.pool_id = pool_members.pool_id AND t.person_id = pool_members.person_id
  );

-- A stay that began and ended at this same refresh time (a re-run after a change) is re-opened.
UPDATE pool_members SET left_at = NULL
WHERE joined_at = :as_of AND left_at = :as_of
  AND EXISTS (
      SELECT 1 FROM pool_target AS t WHERE t.pool_id = pool_members.pool_id AND t.person_id = pool_members.person_id
  );

-- Refreshed pools with no open stay left (a new pool, the first refresh): every member of theirs
-- starts a stay, with no open stay to look for (pool_fresh must exist, empty; see join_fresh.sql).
INSERT INTO pool_fresh (pool_id)
SELECT r.pool_id
FROM pool_refreshed AS r
WHERE NOT EXISTS (SELECT 1 FROM pool_members AS m WHERE m.pool_id = r.pool_id AND m.left_at IS NULL);

-- In the other pools, new members start a stay.
INSERT INTO pool_members (pool_id, person_id, joined_at)
SELECT t.pool_id, t.person_id, :as_of
FROM pool_target AS t
WHERE t.pool_id NOT IN (SELECT pool_id FROM pool_fresh)
  AND NOT EXISTS (
      SELECT 1 FROM pool_members AS m
      WHERE m.pool_id = t.pool_id AND m.person_id = t.person_id AND m.left_at IS NULL
  )
ORDER BY t.pool_id, t.person_id;
