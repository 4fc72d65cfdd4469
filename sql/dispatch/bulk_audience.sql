-- People who may receive a bulk campaign for the period: current consent as of :as_of for one of
-- the campaign's purposes (temp table dispatch_purposes, with each purpose's default frequency),
-- that frequency (their choice, else the default) equal to the campaign's cadence, and no message
-- of this campaign for this period yet. One row per (person, purpose).
SELECT p.person_id,
       p.email,
       p.first_name,
       p.full_name,
       COALESCE(p.preferred_language, p.language) AS language,
       p.age_band,
       p.job_family,
       cc.purpose,
       cc.last_event_id
FROM consent_current cc
JOIN dispatch_purposes dp ON dp.purpose = cc.purpose
JOIN persons p ON p.person_id = cc.person_id
LEFT JOIN contact_preferences cp ON cp.person_id = cc.person_id AND cp.purpose = cc.purpose
WHERE cc.is_active
  AND (cc.expires_at IS NULL OR cc.expires_at > :as_of)
  AND (cc.granted_at IS NULL OR cc.granted_at <= :as_of)
  AND COALESCE(cp.frequency, dp.default_frequency) = :cadence
  AND NOT EXISTS (
      SELECT 1 FROM outbox o
      WHERE o.person_id = p.person_id AND o.campaign = :campaign AND o.period = :period
  )
ORDER BY p.person_id, cc.purpose
