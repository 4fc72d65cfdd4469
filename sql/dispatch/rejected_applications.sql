-- Applications rejected in (:since, :as_of] that have no rejection email yet (one per application).
SELECT a.application_id,
       a.person_id,
       a.job_title,
       a.stage_name,
       a.stage_rank,
       a.rejection_reason,
       a.rejected_at,
       p.email,
       p.first_name,
       p.full_name,
       COALESCE(p.preferred_language, p.language) AS language,
       CASE WHEN EXISTS (
           SELECT 1 FROM consent_current cc
           WHERE cc.person_id = a.person_id AND cc.purpose = 'job_offers' AND cc.is_active
             AND (cc.expires_at IS NULL OR cc.expires_at > :as_of)
       ) THEN 1 ELSE 0 END AS in_pool
FROM applications a
JOIN persons p ON p.person_id = a.person_id
WHERE a.status = 'rejected'
  AND a.rejected_at > :since AND a.rejected_at <= :as_of
  AND (:include_candidate_side = 1 OR COALESCE(a.rejection_side, 'unknown') <> 'candidate')
  AND NOT EXISTS (
      SELECT 1 FROM outbox o
      WHERE o.person_id = a.person_id AND o.campaign = 'rejection_feedback'
        AND o.period = 'application-' || CAST(a.application_id AS TEXT)
  )
ORDER BY a.application_id
