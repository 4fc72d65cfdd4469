-- Pool sizes on the refresh day; joined/left count the stays that began/ended at this refresh
-- time, so a re-run writes the same figures.
DELETE FROM pool_snapshots WHERE as_of = :as_of_date AND pool_id IN (SELECT pool_id FROM pool_refreshed);

INSERT INTO pool_snapshots (pool_id, as_of, size, joined, left_count)
SELECT
    r.pool_id,
    :as_of_date,
    COALESCE(SUM(CASE WHEN m.person_id IS NOT NULL AND m.left_at IS NULL THEN 1 ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN m.joined_at = :as_of AND m.left_at IS NULL THEN 1 ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN m.left_at = :as_of THEN 1 ELSE 0 END), 0)
FROM pool_refreshed AS r
LEFT JOIN pool_members AS m ON m.pool_id = r.pool_id AND (m.left_at IS NULL OR m.left_at = :as_of)
GROUP BY r.pool_id;
