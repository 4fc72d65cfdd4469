-- The purposes each recipient (temp table dispatch_recipients) currently consents to.
SELECT cc.person_id, cc.purpose
FROM consent_current cc
JOIN dispatch_recipients r ON r.person_id = cc.person_id
WHERE cc.is_active AND (cc.expires_at IS NULL OR cc.expires_at > :as_of)
ORDER BY cc.person_id, cc.purpose
