-- Per person, what the retention rules need: the dates of the process, the last contact, and the
-- consent picture as of :as_of (active, latest grant, when an inactive consent ended, pending request).
SELECT
    p.person_id,
    p.created_at,
    p.last_applied_at,
    p.last_rejected_at,
    p.last_contact_at,
    c.active_purposes,
    c.last_granted_at,
    c.inactive_since,
    c.pending_since,
    c.lapsed_since,
    CASE WHEN EXISTS (
        SELECT 1 FROM applications AS a WHERE a.person_id = p.person_id AND a.status = 'active'
    ) THEN 1 ELSE 0 END AS in_process,
    CASE WHEN EXISTS (
        SELECT 1 FROM gdpr_requests AS r WHERE r.person_id = p.person_id AND r.status = 'received'
    ) THEN 1 ELSE 0 END AS open_request
FROM persons AS p
LEFT JOIN (
    SELECT
        cc.person_id,
        SUM(CASE WHEN cc.is_active AND (cc.expires_at IS NULL OR cc.expires_at > :as_of) THEN 1 ELSE 0 END)
            AS active_purposes,
        MAX(CASE WHEN cc.is_active THEN cc.granted_at END) AS last_granted_at,
        MAX(CASE WHEN cc.status IN ('withdrawn', 'expired') THEN e.occurred_at END) AS inactive_since,
        MAX(CASE WHEN cc.status = 'requested' THEN e.occurred_at END) AS pending_since,
        MAX(CASE WHEN cc.is_active AND cc.expires_at <= :as_of THEN cc.expires_at END) AS lapsed_since
    FROM consent_current AS cc
    JOIN consent_events AS e ON e.event_id = cc.last_event_id
    GROUP BY cc.person_id
) AS c ON c.person_id = p.person_id;
