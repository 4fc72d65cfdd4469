"""
### Quarterly content digest and job-offer digest

On the 3rd of January, April, July and October at 11:00 (Europe/Paris), for the period of the logical date (`2026-Q4`):

1. **load_catalogue**: the content catalogue (`include/content/*.yaml|csv`: events to meet the
   recruiting teams, employee testimonials, company news, job-market information) upserted into
   `content_items`; items gone from the files are retired.
2. **plan**: `quarterly_offers` (best open offers for people whose job-offer frequency is
   quarterly), then `quarterly_content`: per person, the purposes they consent to at a quarterly
   frequency, items in their language, testimonials from their job family, events weighted twice
   for 18-24 year-olds, never an item sent before; the frequency cap across campaigns applies.
   A period is planned once: a re-run or a backfill plans nothing twice.
3. **deliver** through `smtp_default` (or `.eml` files with `dry_run`), consent and suppression
   checked again just before sending; one-click unsubscribe headers (RFC 8058) on every message.
4. **report**: the batch record (template versions, states, consents used); no personal data.
"""

from __future__ import annotations

from vivier_airflow.dispatch_tasks import digest_dag

CAMPAIGNS = ["quarterly_offers", "quarterly_content"]

dispatch_quarterly = digest_dag("dispatch_quarterly", "0 11 3 1,4,7,10 *", CAMPAIGNS, __doc__)
