-- The reverse view, for the weekly digest: each person's best open offers among the stored matches,
-- for people whose consent for job offers is current as of :as_of. person_rank 1 = best for the person
-- (higher score, then the older offer id).
SELECT person_id, job_offer_id, title, location, score, person_rank, offer_rank, matched_skills, missing_skills, reason
FROM (
    SELECT
        m.person_id, m.job_offer_id, o.title, o.location, m.score, m.rank AS offer_rank,
        m.matched_skills, m.missing_skills, m.reason,
        ROW_NUMBER() OVER (PARTITION BY m.person_id ORDER BY m.score DESC, m.job_offer_id) AS person_rank
    FROM matches AS m
    JOIN job_offers AS o ON o.job_offer_id = m.job_offer_id AND o.status = 'open'
    JOIN consent_current AS c ON c.person_id = m.person_id AND c.purpose = 'job_offers'
    WHERE c.is_active AND (c.expires_at IS NULL OR c.expires_at > :as_of)
) AS ranked
WHERE person_rank <= :per_person
ORDER BY person_id, person_rank;
