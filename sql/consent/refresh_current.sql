-- Re-derive consent_current for the (person, purpose) pairs of consent_touched from the ledger: their
-- effective events go into consent_effective, then current_from_events.sql writes the rows.
-- The effective event is the latest decisive one (anything but `requested`), unless a `requested`
-- came after a decisive event that is not active (asking again after a withdrawal or an expiry shows
-- as `requested`; asking again while consent is active changes nothing). Order: occurred_at, event_id.
DELETE FROM consent_current
WHERE (person_id, purpose) IN (SELECT t.person_id, t.purpose FROM consent_touched AS t);

INSERT INTO consent_effective (event_id)
SELECT
    CASE
        WHEN d.event_id IS NULL THEN r.event_id
        WHEN d.action IN ('granted', 'confirmed', 'renewed') THEN d.event_id
        WHEN r.event_id IS NOT NULL
            AND (r.occurred_at > d.occurred_at OR (r.occurred_at = d.occurred_at AND r.event_id > d.event_id))
            THEN r.event_id
        ELSE d.event_id
    END AS event_id
FROM (SELECT DISTINCT person_id, purpose FROM consent_touched) AS p
LEFT JOIN (
    SELECT person_id, purpose, event_id, action, occurred_at FROM (
        SELECT
            e.person_id, e.purpose, e.event_id, e.action, e.occurred_at,
            ROW_NUMBER() OVER (
                PARTITION BY e.person_id, e.purpose ORDER BY e.occurred_at DESC, e.event_id DESC
            ) AS position
        FROM consent_events AS e
        JOIN consent_touched AS t ON t.person_id = e.person_id AND t.purpose = e.purpose
        WHERE e.action <> 'requested'
    ) AS ranked WHERE position = 1
) AS d ON d.person_id = p.person_id AND d.purpose = p.purpose
LEFT JOIN (
    SELECT person_id, purpose, event_id, occurred_at FROM (
        SELECT
            e.person_id, e.purpose, e.event_id, e.occurred_at,
            ROW_NUMBER() OVER (
                PARTITION BY e.person_id, e.purpose ORDER BY e.occurred_at DESC, e.event_id DESC
            ) AS position
        FROM consent_events AS e
        JOIN consent_touched AS t ON t.person_id = e.person_id AND t.purpose = e.purpose
        WHERE e.action = 'requested'
    ) AS ranked WHERE position = 1
) AS r ON r.person_id = p.person_id AND r.purpose = p.purpose;
