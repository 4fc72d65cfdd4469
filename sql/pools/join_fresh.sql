-- Every member of a pool without open stays (pool_fresh, from apply_membership.sql) starts a stay.
INSERT INTO pool_members (pool_id, person_id, joined_at)
SELECT t.pool_id, t.person_id, :as_of
FROM pool_target AS t
WHERE t.pool_id IN (SELECT pool_id FROM pool_fresh)
ORDER BY t.pool_id, t.person_id;
