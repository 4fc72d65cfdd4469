-- Tags accumulate: a person keeps the skills and tags of every export they appeared in.
-- stage_tags holds the tags of persons that existed before this load (those of new persons are
-- written straight into person_tags) and is unique per (person_id, kind, value): only tags the
-- person does not have yet are inserted.
INSERT INTO person_tags (person_id, kind, value, evidence)
SELECT s.person_id, s.kind, s.value, s.evidence
FROM stage_tags AS s
WHERE TRUE
ON CONFLICT (person_id, kind, value) DO NOTHING;
