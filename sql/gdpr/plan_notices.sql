-- Renewal notices. stage_deadlines holds, for every person with active consent, the day it lapses
-- (deadline), when the notice should go (send_on) and whether to plan it now (due_soon).
-- New notices are planned once per (person, deadline); planned notices that no longer apply (the
-- clock moved with a new contact, or the consent ended) are cancelled.
INSERT INTO retention_notices (person_id, kind, purpose, deadline, send_on, status, planned_at)
SELECT s.person_id, 'consent_renewal', NULL, s.deadline, s.send_on, 'planned', :as_of
FROM stage_deadlines AS s
WHERE s.due_soon AND NOT EXISTS (
    SELECT 1 FROM retention_notices AS n
    WHERE n.person_id = s.person_id AND n.kind = 'consent_renewal' AND n.deadline = s.deadline
)
ORDER BY s.person_id;

UPDATE retention_notices SET status = 'cancelled'
WHERE kind = 'consent_renewal' AND status = 'planned'
  AND NOT EXISTS (
      SELECT 1 FROM stage_deadlines AS s
      WHERE s.person_id = retention_notices.person_id AND s.deadline = retention_notices.deadline
  );
