-- The matches of the run's offers (stage_match_offers) go before the new ones are written: an offer
-- that closed, or whose people lost consent, keeps no stale rows.
DELETE FROM matches WHERE job_offer_id IN (SELECT job_offer_id FROM stage_match_offers);
