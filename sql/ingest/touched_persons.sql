-- The persons this load wrote (touched_persons must exist, empty).
INSERT INTO touched_persons (person_id)
SELECT p.person_id FROM persons AS p JOIN stage_persons AS s ON s.email = p.email;
