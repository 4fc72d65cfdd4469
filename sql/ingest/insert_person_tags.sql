-- Tags accumulate: a person keeps the skills and tags of every export they appeared in.
-- stage_tags is unique per (email, kind, value), hence per (person_id, kind, value).
INSERT INTO person_tags (person_id, kind, value, evidence)
SELECT p.person_id, s.kind, s.value, s.evidence
FROM stage_tags AS s
JOIN persons AS p ON p.email = s.email
WHERE TRUE
ON CONFLICT (person_id, kind, value) DO NOTHING;
