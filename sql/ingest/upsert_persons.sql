-- One row per email from stage_persons into persons. New non-missing values win; the first-seen
-- source is kept; created_at is set once. Aggregates over applications are refreshed afterwards.
INSERT INTO persons (
    email, first_name, last_name, full_name, name_key, phone_e164, city, country, language, headline,
    job_family, seniority, years_experience, source_system, source_channel, age_band,
    is_silver_medalist, applications_count, created_at, updated_at
)
SELECT
    email, first_name, last_name, full_name, name_key, phone_e164, city, country, language, headline,
    job_family, seniority, years_experience, source_system, source_channel, age_band,
    FALSE, 0, :as_of, :as_of
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
