-- What ATS exports say about consent to be contacted for future jobs (stage_ats_consent: one row per
-- person, wants = true for consent, false for a refusal or an unsubscribe), turned into ledger events.
-- An import never raises consent above what the ledger knows and never overrides a withdrawal:
-- it grants only where the ledger has nothing decisive yet (no row, or only a request), and records
-- a withdrawal unless one is already current. Grants that had already lapsed are not recorded.
INSERT INTO consent_events (person_id, purpose, action, source, occurred_at, expires_at, file_id, recorded_at)
SELECT
    s.person_id,
    'job_offers',
    CASE WHEN s.wants THEN 'granted' ELSE 'withdrawn' END,
    'ats_import',
    :as_of,
    CASE WHEN s.wants THEN s.expires_at END,
    s.file_id,
    :as_of
FROM stage_ats_consent AS s
LEFT JOIN consent_current AS c ON c.person_id = s.person_id AND c.purpose = 'job_offers'
WHERE
    (s.wants AND (c.person_id IS NULL OR c.status = 'requested') AND (s.expires_at IS NULL OR s.expires_at > :as_of))
    OR (NOT s.wants AND (c.person_id IS NULL OR c.status <> 'withdrawn'))
ORDER BY s.person_id;
