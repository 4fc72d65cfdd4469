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

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

CAMPAIGNS = ["monthly_offers", "monthly_content"]
DEFAULT_ARGS = {"owner": "vivier", "retries": 2, "retry_delay": pendulum.duration(minutes=5)}


@dag(
    dag_id="dispatch_monthly",
    schedule=CronTriggerTimetable("0 10 2 * *", timezone="Europe/Paris"),
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
    },
)
def dispatch_monthly():
    @task
    def load_catalogue() -> dict:
        """The content catalogue files -> content_items (upsert; removed items retired)."""
        from dataclasses import asdict

        from vivier.dispatch.catalogue import load_catalogue as load
        from vivier.dispatch.catalogue import read_catalogue
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of

        context = get_current_context()
        with crm_engine().begin() as connection:
            counts = load(connection, read_catalogue(), run_as_of(context))
        print(f"content catalogue: {asdict(counts)}")
        return asdict(counts)

    @task
    def plan(catalogue: dict) -> list[dict]:
        """Plan the period's job-offer and content digests into the outbox (once per period)."""
        from vivier.dispatch.service import make_planner, plan_campaigns
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.preference_centre import preference_centre_settings
        from vivier_airflow.runs import run_as_of, run_id
        from vivier_airflow.secrets import suppression_key

        context = get_current_context()
        base_url, keys = preference_centre_settings()
        planner = make_planner(base_url, keys, suppression_key())
        plans = plan_campaigns(crm_engine(), planner, CAMPAIGNS, run_as_of(context), run_id(context))
        for result in plans:
            state = "planned now" if result["created"] else "already planned"
            counts = f"{result['planned']} messages, skipped {result['skipped']}"
            print(f"{result['campaign']} {result['period']} ({state}): {counts}")
        return plans

    @task
    def deliver(plans: list[dict]) -> dict:
        """Send the planned messages (or write .eml files in a dry run)."""
        from pathlib import Path

        from vivier.dispatch.service import send_batches
        from vivier.paths import data_dir
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.smtp import smtp_settings

        params = get_current_context()["params"]
        batch_ids = [p["batch_id"] for p in plans if p["batch_id"]]
        if params["dry_run"]:
            folder = Path(params["eml_folder"] or data_dir() / "outbox-eml")
            result = send_batches(crm_engine(), batch_ids, eml_folder=folder)
        else:
            result = send_batches(crm_engine(), batch_ids, smtp=smtp_settings())
        print({key: value for key, value in result.items()})
        return result

    @task
    def report(plans: list[dict], delivered: dict) -> list[dict]:
        """The batch record: who got which template version under which consent (counts only)."""
        from vivier.dispatch.service import batch_record, describe_record
        from vivier_airflow.crm import crm_engine

        records = batch_record(crm_engine(), [p["batch_id"] for p in plans if p["batch_id"]])
        for record in records:
            print("\n".join(describe_record(record)))
        return [
            {k: r[k] for k in ("campaign", "period", "messages", "sent", "failed", "unknown", "skipped")}
            for r in records
        ]

    plans = plan(load_catalogue())
    report(plans, deliver(plans))


dispatch_monthly()
