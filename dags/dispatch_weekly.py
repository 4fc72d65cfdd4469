"""
### Weekly job-offer digest

Every Tuesday at 09:30 (Europe/Paris), the best matching **open** offers (table `matches`, computed
by the matching DAG) for each person whose job-offer frequency is weekly (their choice in the
preference centre, else the default) and who consents to `job_offers` as of the run's logical date.

1. **plan**: campaign `weekly_offers` for the ISO week of the logical date (`2026-W48`): audience,
   suppression list, frequency cap across campaigns, up to 5 offers per person not proposed before;
   the decisions are staged in the CRM database in `render_partitions` slices of the audience (only
   ids and counts go through XCom). A week is planned once: a re-run or a backfill of the same week
   plans nothing.
2. **render** (one mapped task per partition, param `render_partitions`, default 1): each renders
   its slices in the person's language (FR/EN/DE/IT, fallback) in a sandbox and freezes them in
   `outbox` with a deterministic Message-ID and RFC 8058 one-click unsubscribe headers, in one
   transaction per slice; a retried or re-run partition writes nothing twice. Any number of
   partitions writes the same messages.
3. **finalise**: once every slice is rendered, records the batch (counts, template versions) and
   makes it deliverable, in one transaction; nothing is sent from a batch before that.
4. **deliver**: claims the planned messages, checks consent and suppression again, and sends them
   through the Airflow connection `smtp_default` (one connection, throttled, 4xx retried with
   backoff, 5xx failed, uncertain outcomes left `unknown`). With `dry_run`, writes `.eml` files
   instead and leaves the outbox as it is.
5. **report**: the batch record (template versions, states, consents used); no personal data.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, task

CAMPAIGNS = ["weekly_offers"]
DEFAULT_ARGS = {"owner": "vivier", "retries": 2, "retry_delay": pendulum.duration(minutes=5)}


@dag(
    dag_id="dispatch_weekly",
    schedule=CronTriggerTimetable("30 9 * * 2", timezone="Europe/Paris"),
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
def dispatch_weekly():
    @task
    def plan() -> list:
        """Decide the week's digests and stage them in partitions (once per week; ids and counts only)."""
        from vivier_airflow.dispatch_tasks import stage_period

        return stage_period(CAMPAIGNS)

    @task
    def render(partition: list[list[int]]) -> list[dict]:
        """Render this partition's slices of the staged plan into the outbox (once per slice)."""
        from vivier_airflow.dispatch_tasks import render_partition

        return render_partition(partition)

    @task
    def finalise(staged: list[dict], rendered: list[list[dict]]) -> list[dict]:
        """Close the week's batch: counts and template versions; deliverable from now on."""
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

    staged = plan()
    plans = finalise(staged["plans"], render.expand(partition=staged))
    report(plans, deliver(plans))


dispatch_weekly()
