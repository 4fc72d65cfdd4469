SELECT k.job_offer_id, k.skill_id, k.importance
FROM job_offer_skills AS k
JOIN stage_match_offers AS s ON s.job_offer_id = k.job_offer_id
ORDER BY k.job_offer_id, k.skill_id;
