-- Consent-renewal notices due by :as_of whose deadline has not passed, not yet in the outbox.
SELECT rn.notice_id,
       rn.person_id,
       rn.purpose,
       rn.deadline,
       p.email,
       p.first_name,
       p.full_name,
       COALESCE(p.preferred_language, p.language) AS language
FROM retention_notices rn
JOIN persons p ON p.person_id = rn.person_id
WHERE rn.kind = 'consent_renewal' AND rn.status = 'planned'
  AND rn.send_on <= :as_of AND rn.deadline > :as_of
  AND NOT EXISTS (
      SELECT 1 FROM outbox o
      WHERE o.person_id = rn.person_id AND o.campaign = 'consent_renewal'
        AND o.period = 'notice-' || CAST(rn.notice_id AS TEXT)
  )
ORDER BY rn.notice_id
