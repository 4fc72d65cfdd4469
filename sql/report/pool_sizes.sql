-- Pool sizes per refresh day over the report window (pool_snapshots is written by pools_refresh).
SELECT p.name AS pool, s.as_of, s.size, s.joined, s.left_count
FROM pool_snapshots AS s
JOIN pools AS p ON p.pool_id = s.pool_id
WHERE s.as_of > :since_date AND s.as_of <= :as_of_date
ORDER BY s.as_of, p.name;
