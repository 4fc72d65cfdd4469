"""
### Monthly and quarterly digests (two DAGs from one file: they differ only in schedule and campaigns)

- `dispatch_monthly`: on the 2nd of every month at 10:00 (Europe/Paris), for the month of the
  logical date (`2026-11`): campaigns `monthly_offers`, `monthly_content`.
- `dispatch_quarterly`: on the 3rd of January, April, July and October at 11:00, for the quarter of
  the logical date (`2026-Q4`): campaigns `quarterly_offers`, `quarterly_content`.

1. **load_catalogue**: the content catalogue (`include/content/*.yaml|csv`: events to meet the
   recruiting teams, employee testimonials, company news, job-market information) upserted into
   `content_items`; items gone from the files are retired.
2. **plan**: the job-offer digest (best open offers for people whose job-offer frequency is the
   DAG's cadence), then the content digest: per person, the purposes they consent to at that
   frequency, items in their language, testimonials from their job family, events weighted twice
   for 18-24 year-olds, never an item sent before; the frequency cap across campaigns applies
   (the offers staged first count for the content). The decisions are staged in the CRM database
   in `render_partitions` slices of each audience; only ids and counts go through XCom. A period
   is planned once: a re-run or a backfill plans nothing twice.
3. **render** (one mapped task per partition, param `render_partitions`, default 1): each renders
   its slices of both campaigns in the person's language in a sandbox and freezes them in
   `outbox` (deterministic Message-IDs), one transaction per slice; a retried or re-run partition
   writes nothing twice, and any number of partitions writes the same messages.
4. **finalise**: records each batch (counts, template versions) and makes it deliverable, in one
   transaction per batch, once all its slices are rendered.
5. **deliver** through `smtp_default` (or `.eml` files with `dry_run`), consent and suppression
   checked again just before sending; one-click unsubscribe headers (RFC 8058) on every message.
6. **report**: the batch record (template versions, states, consents used); no personal data.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, task

DEFAULT_ARGS = {"owner": "vivier", "retries": 2, "retry_delay": pendulum.duration(minutes=5)}
DIGESTS = {
    "dispatch_monthly": ("0 10 2 * *", ["monthly_offers", "monthly_content"]),
    "dispatch_quarterly": ("0 11 3 1,4,7,10 *", ["quarterly_offers", "quarterly_content"]),
}


def digest_dag(dag_id: str, cron: str, campaigns: list[str]):
    @dag(
        dag_id=dag_id,
        schedule=CronTriggerTimetable(cron, timezone="Europe/Paris"),
        start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Paris"),
        catchup=False,
        max_active_runs=1,
        tags=["vivier", "dispatch"],
        default_args=DEFAULT_ARGS,
        doc_md=__doc__,
        params={
            "dry_run": Param(
                False,
                type="boolean",
                title="Dry run",
                description="Write the messages as .eml files instead of sending them (the outbox stays as it is).",
            ),
            "eml_folder": Param(
                "",
                type="string",
                title=".eml folder",
                description="Where a dry run writes the messages. Empty: data/outbox-eml/.",
            ),
            "render_partitions": Param(
                1,
                type="integer",
                minimum=1,
                maximum=32,
                title="Render partitions",
                description=(
                    "Render the period's messages in this many mapped tasks (slices of the audience), so that "
                    "several workers share a large batch. Any number writes the same messages; 1 renders in one "
                    "task (keep 1 on SQLite, which has one writer at a time)."
                ),
            ),
        },
    )
    def digest():
        @task
        def load_catalogue() -> dict:
            """The content catalogue files -> content_items (upsert; removed items retired)."""
            from vivier_airflow.dispatch_tasks import load_content_catalogue

            return load_content_catalogue()

        @task
        def plan(catalogue: dict) -> list:
            """Decide the period's offer and content digests and stage them in partitions (once per period)."""
            from vivier_airflow.dispatch_tasks import stage_period

            return stage_period(campaigns)

        @task
        def render(partition: list[list[int]]) -> list[dict]:
            """Render this partition's slices of the staged plans into the outbox (once per slice)."""
            from vivier_airflow.dispatch_tasks import render_partition

            return render_partition(partition)

        @task
        def finalise(staged: list[dict], rendered: list[list[dict]]) -> list[dict]:
            """Close the period's batches: counts and template versions; deliverable from now on."""
            from vivier_airflow.dispatch_tasks import finalise_period

            return finalise_period(staged)

        @task
        def deliver(plans: list[dict]) -> dict:
            """Send the planned messages (or write .eml files in a dry run)."""
            from vivier_airflow.dispatch_tasks import deliver_planned

            return deliver_planned(plans)

        @task
        def report(plans: list[dict], delivered: dict) -> list[dict]:
            """The batch record: who got which template version under which consent (counts only)."""
            from vivier_airflow.dispatch_tasks import report_batches

            return report_batches(plans)

        staged = plan(load_catalogue())
        plans = finalise(staged["plans"], render.expand(partition=staged))
        report(plans, deliver(plans))

    return digest()


digests = {dag_id: digest_dag(dag_id, cron, campaigns) for dag_id, (cron, campaigns) in DIGESTS.items()}
