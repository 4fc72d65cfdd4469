-- The effective events of the persons this load created (stage_ats_consent.is_new): the import's event
-- above :after_event_id is their whole ledger (one signal per person, and no other transaction can
-- record an event for a person it cannot see yet). current_from_events.sql then writes the rows.
INSERT INTO consent_effective (event_id)
SELECT e.event_id
FROM consent_events AS e
WHERE e.event_id > :after_event_id
    AND e.person_id IN (SELECT s.person_id FROM stage_ats_consent AS s WHERE s.is_new);
