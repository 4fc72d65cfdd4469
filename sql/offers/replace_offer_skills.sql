-- The skills of every offer of the run are replaced by what its latest export says.
DELETE FROM job_offer_skills
WHERE job_offer_id IN (
    SELECT o.job_offer_id
    FROM job_offers AS o
    JOIN stage_offers AS s ON s.source_system = o.source_system AND s.source_job_id = o.source_job_id
);

INSERT INTO job_offer_skills (job_offer_id, skill_id, importance, evidence)
SELECT o.job_offer_id, k.skill_id, k.importance, k.evidence
FROM stage_offer_skills AS k
JOIN job_offers AS o ON o.source_system = k.source_system AND o.source_job_id = k.source_job_id;
