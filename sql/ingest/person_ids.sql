-- The CRM id of each person of the load the CRM already has (stage_person_keys.position: the
-- person's row in the run's persons frame).
SELECT s.position, p.person_id
FROM stage_person_keys AS s
JOIN persons AS p ON p.email = s.email;
