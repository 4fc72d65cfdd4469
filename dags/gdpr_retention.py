"""
### GDPR retention (daily)

Applies the retention rules of `include/gdpr/retention.yaml` (CNIL recruitment guide) as of the run's
logical date, then answers the data-subject requests received through the preference centre.

1. **apply_retention**, one transaction: rejection reasons cleared 3 months after the rejection,
   old quarantined rows deleted; dispatch plans left unrendered and `data/staging/` folders of
   failed runs dropped after 7 days; a consent-renewal notice planned 60 days before a consent
   lapses (2 years after the last contact; the dispatch DAGs send it); lapsed consents expire in the
   ledger; people without current consent are erased once the rejection, the grace period after
   their consent ended, or an unanswered invitation are all behind them. Writes
   `data/reports/gdpr-<date>.json`: what was done, consents expiring soon, and data-subject requests
   due soon or overdue.
2. **answer_requests**: access exports and erasures for requests in `gdpr_requests` with status
   `received` (one-month deadline).

Re-running a day finds nothing left to do. Only ids and counts reach the logs.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task

DEFAULT_ARGS = {"owner": "vivier", "retries": 2, "retry_delay": pendulum.duration(minutes=5)}


@dag(
    dag_id="gdpr_retention",
    schedule=CronTriggerTimetable("30 4 * * *", timezone="Europe/Paris"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Paris"),
    catchup=False,
    max_active_runs=1,
    tags=["vivier", "gdpr"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def gdpr_retention():
    @task
    def apply_retention() -> dict:
        """Renew, expire and erase per the retention rules; write the daily GDPR report."""
        import json

        import pandas as pd

        from vivier.gdpr.retention import run_retention
        from vivier.gdpr.rules import RetentionRules
        from vivier.gdpr.staging_files import remove_stale_run_folders
        from vivier.paths import data_dir
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of, run_id

        context = get_current_context()
        as_of = pd.Timestamp(run_as_of(context))
        rules = RetentionRules.load()
        report = run_retention(crm_engine(), as_of, rules=rules, run_id=run_id(context)).to_dict()
        report["staging_folders_removed"] = remove_stale_run_folders(
            data_dir() / "staging", (as_of - rules.days("staging_days")).to_pydatetime()
        )
        path = data_dir() / "reports" / f"gdpr-{as_of.date().isoformat()}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2), encoding="utf-8")
        for key, value in report.items():
            print(f"{key}: {value}")
        if report["requests_overdue"]:
            print(f"WARNING: {report['requests_overdue']} data-subject request(s) past their one-month deadline")
        return report

    @task
    def answer_requests(report: dict) -> list[dict]:
        """Answer the access and erasure requests received so far."""
        import pandas as pd

        from vivier.gdpr.requests import process_pending
        from vivier.paths import data_dir
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of, run_id
        from vivier_airflow.secrets import suppression_key

        context = get_current_context()
        outcomes = process_pending(
            crm_engine(),
            as_of=pd.Timestamp(run_as_of(context)),
            exports_dir=data_dir() / "gdpr" / "exports",
            suppression_key=suppression_key(),
            run_id=run_id(context),
        )
        for outcome in outcomes:
            print(f"request {outcome.request_id} ({outcome.kind}): {outcome.status}")
        return [{"request_id": o.request_id, "kind": o.kind, "status": o.status} for o in outcomes]

    answer_requests(apply_retention())


gdpr_retention()
