-- Tags accumulate: a person keeps the skills and tags of every export they appeared in.
INSERT INTO person_tags (person_id, kind, value, evidence)
SELECT p.person_id, s.kind, s.value, MIN(s.evidence)
FROM stage_tags AS s
JOIN persons AS p ON p.email = s.email
WHERE TRUE
GROUP BY p.person_id, s.kind, s.value
ON CONFLICT (person_id, kind, value) DO NOTHING;
