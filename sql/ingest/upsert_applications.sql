-- Applications from stage_applications (person_id already resolved), keyed by the ATS's id, in
-- stage order (by person: index pages are filled in order, and application ids follow it).
INSERT INTO applications (
    person_id, source_system, source_application_id, source_person_id, job_source_id, job_title,
    department, applied_at, rejected_at, status, stage_name, stage_rank, rejection_reason,
    rejection_side, source_channel, file_id, created_at, updated_at
)
SELECT
    s.person_id, s.source_system, s.source_application_id, s.source_person_id, s.job_source_id, s.job_title,
    s.department, s.applied_at, s.rejected_at, s.status, s.stage_name, s.stage_rank, s.rejection_reason,
    s.rejection_side, s.source_channel, s.file_id, :as_of, :as_of
FROM stage_applications AS s
WHERE TRUE
ORDER BY s.position
ON CONFLICT (source_system, source_application_id) DO UPDATE SET
    person_id = excluded.person_id,
    source_person_id = excluded.source_person_id,
    job_source_id = excluded.job_source_id,
    job_title = excluded.job_title,
    department = excluded.department,
    applied_at = excluded.applied_at,
    rejected_at = excluded.rejected_at,
    status = excluded.status,
    stage_name = excluded.stage_name,
    stage_rank = excluded.stage_rank,
    rejection_reason = excluded.rejection_reason,
    rejection_side = excluded.rejection_side,
    source_channel = excluded.source_channel,
    file_id = excluded.file_id,
    updated_at = excluded.updated_at;
