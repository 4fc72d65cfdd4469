-- Recipients (temp table dispatch_recipients: person_id, email_hmac) on the suppression list.
SELECT r.person_id FROM dispatch_recipients r JOIN suppression_list s ON s.email_hmac = r.email_hmac
