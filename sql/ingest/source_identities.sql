-- How many ATS identities (vendor + the vendor's person id) each person of recount_persons gathers
-- (the identities of new persons are counted from the load itself).
SELECT a.person_id, COUNT(DISTINCT a.source_system || ':' || COALESCE(a.source_person_id, '')) AS identities
FROM applications AS a
JOIN recount_persons AS t ON t.person_id = a.person_id
GROUP BY a.person_id
HAVING COUNT(DISTINCT a.source_system || ':' || COALESCE(a.source_person_id, '')) > 1;
