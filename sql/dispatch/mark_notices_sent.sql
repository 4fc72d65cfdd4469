-- Retention notices whose consent-renewal message the server accepted are 'sent'.
UPDATE retention_notices
SET status = 'sent',
    message_id = (
        SELECT o.message_id FROM outbox_items oi JOIN outbox o ON o.message_id = oi.message_id
        WHERE oi.kind = 'retention_notice' AND oi.item_ref = CAST(retention_notices.notice_id AS TEXT)
          AND o.state = 'sent'
        ORDER BY o.sent_at LIMIT 1
    ),
    sent_at = (
        SELECT MIN(o.sent_at) FROM outbox_items oi JOIN outbox o ON o.message_id = oi.message_id
        WHERE oi.kind = 'retention_notice' AND oi.item_ref = CAST(retention_notices.notice_id AS TEXT)
          AND o.state = 'sent'
    )
WHERE status = 'planned'
  AND EXISTS (
      SELECT 1 FROM outbox_items oi JOIN outbox o ON o.message_id = oi.message_id
      WHERE oi.kind = 'retention_notice' AND oi.item_ref = CAST(retention_notices.notice_id AS TEXT)
        AND o.state = 'sent'
  )
