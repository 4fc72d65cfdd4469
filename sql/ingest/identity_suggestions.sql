-- Possible duplicates among the touched persons, for a person to review (never merged silently):
-- the same E.164 phone, or the same folded name in the same country. Values shared by more than
-- :max_group persons (a switchboard, a very common name) are not evidence and are left out.
INSERT INTO identity_suggestions (person_id, other_person_id, rule, status, created_at)
SELECT p1.person_id, p2.person_id, 'same_phone', 'open', :as_of
FROM persons AS p1
JOIN persons AS p2 ON p2.phone_e164 = p1.phone_e164 AND p2.person_id > p1.person_id
WHERE p1.phone_e164 IN (
    SELECT q.phone_e164 FROM persons AS q
    WHERE q.phone_e164 IN (
        SELECT tp.phone_e164 FROM persons AS tp JOIN touched_persons AS t ON t.person_id = tp.person_id
    )
    GROUP BY q.phone_e164
    HAVING COUNT(*) BETWEEN 2 AND :max_group
)
ON CONFLICT (person_id, other_person_id, rule) DO NOTHING;

INSERT INTO identity_suggestions (person_id, other_person_id, rule, status, created_at)
SELECT p1.person_id, p2.person_id, 'similar_name', 'open', :as_of
FROM persons AS p1
JOIN persons AS p2
    ON p2.name_key = p1.name_key AND p2.country = p1.country AND p2.person_id > p1.person_id
WHERE p1.name_key IN (
    SELECT q.name_key FROM persons AS q
    WHERE q.name_key IN (
        SELECT tp.name_key FROM persons AS tp JOIN touched_persons AS t ON t.person_id = tp.person_id
    )
    GROUP BY q.name_key
    HAVING COUNT(*) BETWEEN 2 AND :max_group
)
ON CONFLICT (person_id, other_person_id, rule) DO NOTHING;
