-- People with current consent, per purpose, as of the refresh (pool_consented must exist, empty).
INSERT INTO pool_consented (person_id, purpose)
SELECT person_id, purpose
FROM consent_current
WHERE is_active AND (expires_at IS NULL OR expires_at > :as_of);
