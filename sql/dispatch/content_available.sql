-- Catalogue items that may go out at :as_of: published, not expired, not retired, events not started.
SELECT item_id, purpose, language, title, summary, url, location, job_family, age_bands, starts_at, weight
FROM content_items
WHERE retired_at IS NULL
  AND published_at <= :as_of
  AND (expires_at IS NULL OR expires_at > :as_of)
  AND (starts_at IS NULL OR starts_at > :as_of)
ORDER BY item_id
