-- One offer's matches with who they are (for the recruiter's shortlist), best first.
SELECT
    m.rank, m.score, m.person_id, p.full_name, p.email, p.headline, p.city, p.country,
    COALESCE(p.preferred_language, p.language) AS language, p.furthest_stage, p.is_silver_medalist,
    m.matched_skills, m.missing_skills, m.reason
FROM matches AS m
JOIN persons AS p ON p.person_id = m.person_id
WHERE m.job_offer_id = :job_offer_id
ORDER BY m.rank;
