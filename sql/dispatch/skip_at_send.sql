-- Checks again, just before sending, everything that may have changed since planning. Rows just
-- claimed by :token that fail a check become 'skipped' with the reason.

-- the person was erased (person_id set to null)
UPDATE outbox SET state = 'skipped', skip_reason = 'erased'
WHERE batch_id = :batch_id AND state = 'claimed' AND claimed_by = :token AND person_id IS NULL;

-- the address is on the suppression list (erasure, hard bounce, complaint)
UPDATE outbox SET state = 'skipped', skip_reason = 'suppressed'
WHERE batch_id = :batch_id AND state = 'claimed' AND claimed_by = :token
  AND EXISTS (SELECT 1 FROM suppression_list s WHERE s.email_hmac = outbox.recipient_hmac);

-- bulk mail: consent for one of the message's purposes was withdrawn or has expired (a purpose of
-- the message without a current consent row; written as an anti-join so that each claimed message
-- is looked up by key, where a NOT EXISTS nested in EXISTS makes PostgreSQL hash the whole table)
UPDATE outbox SET state = 'skipped', skip_reason = 'no_consent'
WHERE batch_id = :batch_id AND state = 'claimed' AND claimed_by = :token AND is_bulk
  AND EXISTS (
      SELECT 1 FROM outbox_consents oc
      LEFT JOIN consent_current cc
        ON cc.person_id = outbox.person_id AND cc.purpose = oc.purpose
       AND cc.is_active AND (cc.expires_at IS NULL OR cc.expires_at > :now)
      WHERE oc.message_id = outbox.message_id AND cc.person_id IS NULL
  );

-- bulk mail: the person set one of the message's purposes to "never"
UPDATE outbox SET state = 'skipped', skip_reason = 'frequency_never'
WHERE batch_id = :batch_id AND state = 'claimed' AND claimed_by = :token AND is_bulk
  AND EXISTS (
      SELECT 1 FROM outbox_consents oc
      JOIN contact_preferences cp ON cp.person_id = outbox.person_id AND cp.purpose = oc.purpose
      WHERE oc.message_id = outbox.message_id AND cp.frequency = 'never'
  );

-- consent renewal requests whose notice was cancelled (the person renewed or left meanwhile)
UPDATE outbox SET state = 'skipped', skip_reason = 'notice_cancelled'
WHERE batch_id = :batch_id AND state = 'claimed' AND claimed_by = :token AND campaign = 'consent_renewal'
  AND NOT EXISTS (
      SELECT 1 FROM outbox_items oi
      JOIN retention_notices rn ON CAST(rn.notice_id AS TEXT) = oi.item_ref
      WHERE oi.message_id = outbox.message_id AND oi.kind = 'retention_notice' AND rn.status = 'planned'
  )
