-- One row per (source_system, source_job_id) from stage_offers into job_offers: the latest export is
-- the truth for every field. A row changes (and its updated_at moves) only when a field differs, so
-- re-sending an unchanged offer leaves it as it was. closed_at is the run that first saw the offer
-- closed; it is cleared when the offer reopens.
INSERT INTO job_offers (
    source_system, source_job_id, title, department, location, country, language, description,
    job_family, status, opened_at, closed_at, file_id, created_at, updated_at
)
SELECT
    source_system, source_job_id, title, department, location, country, language, description,
    job_family, status, opened_at, CASE WHEN status = 'closed' THEN :as_of END, file_id, :as_of, :as_of
FROM stage_offers
WHERE TRUE
ON CONFLICT (source_system, source_job_id) DO UPDATE SET
    title = excluded.title,
    department = excluded.department,
    location = excluded.location,
    country = excluded.country,
    language = excluded.language,
    description = excluded.description,
    job_family = excluded.job_family,
    status = excluded.status,
    opened_at = COALESCE(excluded.opened_at, job_offers.opened_at),
    closed_at = CASE WHEN excluded.status = 'closed' THEN COALESCE(job_offers.closed_at, excluded.closed_at) END,
    file_id = excluded.file_id,
    updated_at = excluded.updated_at
WHERE job_offers.title IS DISTINCT FROM excluded.title
   OR job_offers.department IS DISTINCT FROM excluded.department
   OR job_offers.location IS DISTINCT FROM excluded.location
   OR job_offers.country IS DISTINCT FROM excluded.country
   OR job_offers.language IS DISTINCT FROM excluded.language
   OR job_offers.description IS DISTINCT FROM excluded.description
   OR job_offers.job_family IS DISTINCT FROM excluded.job_family
   OR job_offers.status IS DISTINCT FROM excluded.status
   OR (excluded.opened_at IS NOT NULL AND job_offers.opened_at IS DISTINCT FROM excluded.opened_at);
