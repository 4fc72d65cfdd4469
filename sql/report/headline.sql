-- The report's headline figures, as of the report date.
SELECT
    (SELECT COUNT(*) FROM persons WHERE created_at <= :as_of) AS people,
    (SELECT COUNT(*) FROM persons WHERE created_at <= :as_of AND is_silver_medalist) AS silver_medalists,
    (SELECT COUNT(DISTINCT person_id) FROM pool_members WHERE joined_at <= :as_of AND (left_at IS NULL OR left_at > :as_of)) AS pool_members,
    (SELECT COUNT(DISTINCT person_id) FROM (
        -- consent as of the report date, from the ledger (as consent_current derives it today):
        -- the latest decisive event (not a mere request) grants, and has not expired by then
        SELECT person_id, action, expires_at,
               ROW_NUMBER() OVER (PARTITION BY person_id, purpose ORDER BY occurred_at DESC, event_id DESC) AS position
        FROM consent_events
        WHERE action <> 'requested' AND occurred_at <= :as_of AND person_id IS NOT NULL
    ) AS latest
    WHERE position = 1 AND action IN ('granted', 'confirmed', 'renewed') AND (expires_at IS NULL OR expires_at > :as_of)
    ) AS people_with_consent,
    (SELECT COUNT(*) FROM job_offers WHERE status = 'open' AND created_at <= :as_of) AS open_offers,
    (SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND sent_at > :since AND sent_at <= :as_of) AS messages_sent_in_window;
