-- Recompute what persons derive from all their applications (not only this load's), for the
-- persons of recount_persons: those that existed before the load, those whose applications moved,
-- and new persons whose furthest stage or latest rejection depends on application ids (ties).
-- Counts, first/last dates, furthest stage, silver medalist, latest rejection side.
UPDATE persons SET
    applications_count = agg.applications_count,
    first_applied_at = agg.first_applied_at,
    last_applied_at = agg.last_applied_at,
    last_rejected_at = agg.last_rejected_at,
    furthest_stage_rank = agg.furthest_stage_rank,
    furthest_stage = agg.furthest_stage,
    is_silver_medalist = (agg.silver = 1),
    rejection_side = agg.rejection_side
FROM (
    SELECT
        ranked.person_id,
        COUNT(*) AS applications_count,
        MIN(ranked.applied_at) AS first_applied_at,
        MAX(ranked.applied_at) AS last_applied_at,
        MAX(ranked.rejected_at) AS last_rejected_at,
        MAX(ranked.stage_rank) AS furthest_stage_rank,
        MAX(CASE WHEN ranked.furthest_order = 1 THEN ranked.stage_name END) AS furthest_stage,
        MAX(CASE WHEN ranked.status = 'rejected' AND ranked.stage_rank >= :silver_min_rank THEN 1 ELSE 0 END) AS silver,
        MAX(CASE WHEN ranked.rejection_order = 1 AND ranked.status = 'rejected' THEN ranked.rejection_side END)
            AS rejection_side
    FROM (
        SELECT
            a.person_id, a.applied_at, a.rejected_at, a.status, a.stage_name, a.stage_rank, a.rejection_side,
            ROW_NUMBER() OVER (
                PARTITION BY a.person_id
                ORDER BY a.stage_rank DESC NULLS LAST, a.applied_at DESC NULLS LAST, a.application_id
            ) AS furthest_order,
            ROW_NUMBER() OVER (
                PARTITION BY a.person_id
                ORDER BY CASE WHEN a.status = 'rejected' THEN 0 ELSE 1 END,
                         a.rejected_at DESC NULLS LAST, a.application_id DESC
            ) AS rejection_order
        FROM applications AS a
        JOIN recount_persons AS t ON t.person_id = a.person_id
    ) AS ranked
    GROUP BY ranked.person_id
) AS agg
WHERE persons.person_id = agg.person_id;
