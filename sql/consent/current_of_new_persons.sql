-- Current consent of the persons this load created (stage_ats_consent.is_new): the import's event
-- above :after_event_id is their whole ledger (one signal per person, and no other transaction can
-- record an event for a person it cannot see yet), so it is their current consent, as
-- refresh_current.sql would derive it.
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
WHERE e.event_id > :after_event_id
    AND e.person_id IN (SELECT s.person_id FROM stage_ats_consent AS s WHERE s.is_new)
ORDER BY e.person_id;
