"""
### Rejection feedback, consent renewals, bounces and complaints (daily)

Every day at 09:00 (Europe/Paris):

1. **read_feedback**: new bounce and complaint files in `data/feedback/` (CSV exports, `.eml`
   delivery status notifications and ARF complaint reports, `.mbox` mailbox exports; each file is
   read once, by content hash). A hard bounce or a complaint puts the address on the suppression
   list and withdraws every consent in the ledger (sources `hard_bounce` / `complaint`); soft
   bounces are only recorded.
2. **plan**: `rejection_feedback`: every application rejected in the last 30 days (param
   `lookback_days`) without a rejection email yet gets one, once per application: the personal
   version (the reasons the recruiter recorded, advice for the next applications) from the
   configured stage rank (`include/dispatch/dispatch.yaml`), a short automatic one before; both
   invite the person to join the talent pool (the preference centre's double opt-in link).
   Transactional: no marketing consent needed, never to a suppressed address. Then
   `consent_renewal`: the retention notices that are due. Both are staged in the CRM database in
   `render_partitions` slices; only ids and counts go through XCom.
3. **render** (one mapped task per partition, default 1): the slices rendered in a sandbox and
   frozen in `outbox`, one transaction per slice, never twice.
4. **finalise**: each batch recorded and made deliverable once all its slices are rendered.
5. **deliver** through `smtp_default` (or `.eml` files with `dry_run`), consent and suppression
   checked again just before sending; renewal notices sent are marked `sent`.
6. **report**: the batch record (template versions, states); no personal data.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

CAMPAIGNS = ["rejection_feedback", "consent_renewal"]
DEFAULT_ARGS = {"owner": "vivier", "retries": 2, "retry_delay": pendulum.duration(minutes=5)}


@dag(
    dag_id="rejection_feedback",
    schedule=CronTriggerTimetable("0 9 * * *", timezone="Europe/Paris"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Paris"),
    catchup=False,
    max_active_runs=1,
    tags=["vivier", "dispatch", "gdpr"],
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
        "lookback_days": Param(
            0,
            type="integer",
            minimum=0,
            maximum=92,
            title="Look back (days)",
            description="Mail rejections of the last N days not mailed yet. 0: the configured value (30).",
        ),
        "feedback_folder": Param(
            "",
            type="string",
            title="Bounce and complaint folder",
            description="Folder of bounce/complaint files (CSV, .eml, .mbox). Empty: data/feedback/.",
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
def rejection_feedback():
    @task
    def read_feedback() -> dict:
        """Hard bounces and complaints -> suppression list and withdrawn consents."""
        from pathlib import Path

        from vivier.dispatch.feedback import process_feedback
        from vivier.paths import data_dir
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of
        from vivier_airflow.secrets import suppression_key

        context = get_current_context()
        folder = Path(context["params"]["feedback_folder"] or data_dir() / "feedback")
        with crm_engine().begin() as connection:
            counts = process_feedback(connection, folder, suppression_key(), run_as_of(context))
        print(f"feedback from {folder}: {counts.as_dict()}")
        return counts.as_dict()

    @task
    def plan(feedback: dict) -> list:
        """Decide today's rejection emails (once per application) and due consent renewals, staged in partitions."""
        from dataclasses import replace

        from vivier.dispatch.config import default_config
        from vivier_airflow.dispatch_tasks import stage_period

        context = get_current_context()
        config = default_config()
        if context["params"]["lookback_days"]:
            config = replace(config, rejection_lookback_days=int(context["params"]["lookback_days"]))
        return stage_period(CAMPAIGNS, config)

    @task
    def render(partition: list[list[int]]) -> list[dict]:
        """Render this partition's slices of the staged plans into the outbox (once per slice)."""
        from vivier_airflow.dispatch_tasks import render_partition

        return render_partition(partition)

    @task
    def finalise(staged: list[dict], rendered: list[list[dict]]) -> list[dict]:
        """Close the day's batches: counts and template versions; deliverable from now on."""
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

    staged = plan(read_feedback())
    plans = finalise(staged["plans"], render.expand(partition=staged))
    report(plans, deliver(plans))


rejection_feedback()
