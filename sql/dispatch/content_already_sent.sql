-- Content items each recipient already received (or may still receive) in an earlier message.
SELECT o.person_id, oi.item_ref AS item_id
FROM outbox_items oi
JOIN outbox o ON o.message_id = oi.message_id
JOIN dispatch_recipients r ON r.person_id = o.person_id
WHERE oi.kind = 'content' AND o.state IN ('planned', 'claimed', 'sent', 'unknown')
