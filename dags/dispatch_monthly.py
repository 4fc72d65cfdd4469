"""
### Monthly content digest and job-offer digest

On the 2nd of every month at 10:00 (Europe/Paris), for the period of the logical date (`2026-11`):

1. **load_catalogue**: the content catalogue (`include/content/*.yaml|csv`: events to meet the
   recruiting teams, employee testimonials, company news, job-market information) upserted into
   `content_items`; items gone from the files are retired.
2. **plan**: `monthly_offers` (best open offers for people whose job-offer frequency is
   monthly), then `monthly_content`: per person, the purposes they consent to at a monthly
   frequency, items in their language, testimonials from their job family, events weighted twice
   for 18-24 year-olds, never an item sent before; the frequency cap across campaigns applies.
   A period is planned once: a re-run or a backfill plans nothing twice.
3. **deliver** through `smtp_default` (or `.eml` files with `dry_run`), consent and suppression
   checked again just before sending; one-click unsubscribe headers (RFC 8058) on every message.
4. **report**: the batch record (template versions, states, consents used); no personal data.
"""

from __future__ import annotations

from vivier_airflow.dispatch_tasks import digest_dag

CAMPAIGNS = ["monthly_offers", "monthly_content"]

dispatch_monthly = digest_dag("dispatch_monthly", "0 10 2 * *", CAMPAIGNS, __doc__)
