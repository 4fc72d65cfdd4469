-- consent_current rows from the effective ledger events listed in consent_effective (one per person and
-- purpose): a grant, confirmation or renewal is active until its expiry; anything else is not.
INSERT INTO consent_current (
    person_id, purpose, status, is_active, granted_at, expires_at, source, text_version, last_event_id, updated_at
)
SELECT
    e.person_id,
    e.purpose,
    e.action,
    e.action IN ('granted', 'confirmed', 'renewed'),
    CASE WHEN e.action IN ('granted', 'confirmed', 'renewed') THEN e.occurred_at END,
    CASE WHEN e.action IN ('granted', 'confirmed', 'renewed') THEN e.expires_at END,
    e.source,
    e.text_version,
    e.event_id,
    :updated_at
FROM consent_events AS e
JOIN consent_effective AS f ON f.event_id = e.event_id
ORDER BY e.person_id, e.purpose;
