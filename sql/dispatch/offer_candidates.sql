-- Open offers matched to each recipient (temp table dispatch_recipients), not already proposed to
-- them in an earlier message that went out or may still go out.
SELECT m.person_id,
       m.job_offer_id,
       m.score,
       m.matched_skills,
       m.reason,
       j.title,
       j.location,
       j.department,
       j.source_system,
       j.source_job_id
FROM matches m
JOIN dispatch_recipients r ON r.person_id = m.person_id
JOIN job_offers j ON j.job_offer_id = m.job_offer_id AND j.status = 'open'
WHERE m.score >= :min_score
  AND NOT EXISTS (
      SELECT 1 FROM outbox_items oi
      JOIN outbox o ON o.message_id = oi.message_id
      WHERE oi.kind = 'job_offer' AND oi.item_ref = CAST(m.job_offer_id AS TEXT)
        AND o.person_id = m.person_id AND o.state IN ('planned', 'claimed', 'sent', 'unknown')
  )
