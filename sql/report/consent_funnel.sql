-- The consent ledger up to the report date: events and distinct people per purpose and action.
-- Erased people keep their anonymised events (person_id null): they count as events, not as people.
SELECT purpose, action,
       COUNT(*) AS events,
       COUNT(DISTINCT person_id) AS people,
       SUM(CASE WHEN occurred_at > :since THEN 1 ELSE 0 END) AS events_in_window
FROM consent_events
WHERE occurred_at <= :as_of
GROUP BY purpose, action;
