-- Applications of the load the CRM already holds (same vendor and application id), with the
-- person they belong to now: they are upserted, and their persons' aggregates recounted.
SELECT s.position, a.person_id
FROM stage_application_keys AS s
JOIN applications AS a
    ON a.source_system = s.source_system AND a.source_application_id = s.source_application_id;
