-- Erase the persons listed in erase_ids (person_id), in one go:
-- 1. the ledger gets a final withdrawal for every consent still active or pending (source erasure),
-- 2. ledger rows and sent mail keep only what proves what happened, without the person,
-- 3. the persons row goes; every table that refers to it follows by foreign key (cascade / set null).
INSERT INTO consent_events (person_id, purpose, action, source, occurred_at, recorded_at)
SELECT c.person_id, c.purpose, 'withdrawn', 'erasure', :as_of, :as_of
FROM consent_current AS c
WHERE c.person_id IN (SELECT person_id FROM erase_ids) AND c.status <> 'withdrawn'
ORDER BY c.person_id, c.purpose;

UPDATE consent_events
SET person_id = NULL, evidence_ip = NULL, evidence_user_agent = NULL
WHERE person_id IN (SELECT person_id FROM erase_ids);

UPDATE outbox
SET person_id = NULL, recipient = NULL, recipient_name = NULL, subject = NULL, body_text = NULL, body_html = NULL, headers = NULL
WHERE person_id IN (SELECT person_id FROM erase_ids);

DELETE FROM persons WHERE person_id IN (SELECT person_id FROM erase_ids);
