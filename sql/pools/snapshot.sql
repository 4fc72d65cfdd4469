-- Pool sizes on the refresh day; joined/left count the stays that began/ended at this refresh
-- time, so a re-run writes the same figures.
DELETE FROM pool_snapshots WHERE as_of = :as_of_date AND pool_id IN (SELECT pool_id FROM pool_refreshed);

-- One pass over the open stays and those ended now, grouped by pool, then every refreshed pool.
INSERT INTO pool_snapshots (pool_id, as_of, size, joined, left_count)
SELECT r.pool_id, :as_of_date, COALESCE(m.size, 0), COALESCE(m.joined, 0), COALESCE(m.left_count, 0)
FROM pool_refreshed AS r
LEFT JOIN (
    SELECT
        pool_id,
        SUM(CASE WHEN left_at IS NULL THEN 1 ELSE 0 END) AS size,
        SUM(CASE WHEN joined_at = :as_of AND left_at IS NULL THEN 1 ELSE 0 END) AS joined,
        SUM(CASE WHEN left_at = :as_of THEN 1 ELSE 0 END) AS left_count
    FROM pool_members
    WHERE left_at IS NULL OR left_at = :as_of
    GROUP BY pool_id
) AS m ON m.pool_id = r.pool_id;
