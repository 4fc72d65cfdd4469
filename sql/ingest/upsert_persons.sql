-- Persons of the load the CRM already has (stage_persons, one row per email) merged into persons:
-- new non-missing values win; the first-seen source is kept; created_at is set once. Their
-- aggregates over applications are recounted afterwards (refresh_person_aggregates.sql). New
-- persons are inserted in bulk with the aggregates computed from the load (all their applications
-- are in it).
INSERT INTO persons (
    email, first_name, last_name, full_name, name_key, phone_e164, city, country, language, headline,
    job_family, seniority, years_experience, source_system, source_channel, age_band,
    is_silver_medalist, applications_count, first_applied_at, last_applied_at, last_rejected_at,
    furthest_stage_rank, furthest_stage, rejection_side, created_at, updated_at
)
SELECT
    email, first_name, last_name, full_name, name_key, phone_e164, city, country, language, headline,
    job_family, seniority, years_experience, source_system, source_channel, age_band,
    is_silver_medalist, applications_count, first_applied_at, last_applied_at, last_rejected_at,
    furthest_stage_rank, furthest_stage, rejection_side, :as_of, :as_of
FROM stage_persons
WHERE TRUE
ON CONFLICT (email) DO UPDATE SET
    first_name = COALESCE(excluded.first_name, persons.first_name),
    last_name = COALESCE(excluded.last_name, persons.last_name),
    full_name = COALESCE(excluded.full_name, persons.full_name),
    name_key = COALESCE(excluded.name_key, persons.name_key),
    phone_e164 = COALESCE(excluded.phone_e164, persons.phone_e164),
    city = COALESCE(excluded.city, persons.city),
    country = COALESCE(excluded.country, persons.country),
    language = COALESCE(excluded.language, persons.language),
    headline = COALESCE(excluded.headline, persons.headline),
    job_family = COALESCE(excluded.job_family, persons.job_family),
    seniority = CASE WHEN excluded.seniority = 'unknown' THEN COALESCE(persons.seniority, excluded.seniority)
                     ELSE excluded.seniority END,
    years_experience = COALESCE(excluded.years_experience, persons.years_experience),
    source_system = COALESCE(persons.source_system, excluded.source_system),
    source_channel = COALESCE(persons.source_channel, excluded.source_channel),
    age_band = CASE WHEN excluded.age_band = 'unknown' THEN COALESCE(persons.age_band, excluded.age_band)
                    ELSE excluded.age_band END,
    updated_at = excluded.updated_at;
