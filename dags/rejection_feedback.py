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
   `consent_renewal`: the retention notices that are due.
3. **deliver** through `smtp_default` (or `.eml` files with `dry_run`), consent and suppression
   checked again just before sending; renewal notices sent are marked `sent`.
4. **report**: the batch record (template versions, states); no personal data.
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
    def plan(feedback: dict) -> list[dict]:
        """Plan today's rejection emails (once per application) and due consent renewals."""
        from dataclasses import replace

        from vivier.dispatch.config import default_config
        from vivier.dispatch.service import make_planner, plan_campaigns
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.preference_centre import preference_centre_settings
        from vivier_airflow.runs import run_as_of, run_id
        from vivier_airflow.secrets import suppression_key

        context = get_current_context()
        config = default_config()
        if context["params"]["lookback_days"]:
            config = replace(config, rejection_lookback_days=int(context["params"]["lookback_days"]))
        base_url, keys = preference_centre_settings()
        planner = make_planner(base_url, keys, suppression_key(), config)
        plans = plan_campaigns(crm_engine(), planner, CAMPAIGNS, run_as_of(context), run_id(context))
        for result in plans:
            state = "planned now" if result["created"] else "already planned"
            print(f"{result['campaign']} {result['period']} ({state}): {result['planned']} messages")
        return plans

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

    plans = plan(read_feedback())
    report(plans, deliver(plans))


rejection_feedback()
