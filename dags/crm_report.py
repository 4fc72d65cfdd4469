"""
### The weekly CRM report

Every Monday at 07:00 Europe/Paris, a self-contained HTML report of the week ending at the run's
logical date (charts as inline SVG: open it from disk or mail it, nothing is fetched):

- re-applications and hires of former pool members (the outcome the pools exist for), per month
  and per pool;
- pool sizes over time (`pool_snapshots`), the consent funnel (requested, granted, confirmed,
  renewed, withdrawn, expired), silver medalists by job family;
- matches per open offer and the distribution of match scores;
- messages planned / sent / failed / unknown / skipped / bounced per campaign.

1. **build_report**: `data/reports/crm-report-<date>.html`, and every figure as CSV for dashboards
   in `data/reports/crm-report-<date>/`. Aggregates only: no personal data in the files or the log.
2. **note_run**: the run's note (Airflow UI) links to the report, with the headline figures. It is
   written through the REST API with the `airflow_api` connection; without it the note is logged.

Everything is computed as of the logical date, so re-running a week rewrites identical files.
Backfill an older week from the CLI: `airflow dags test crm_report 2026-11-23`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

DEFAULT_ARGS = {"owner": "vivier", "retries": 2, "retry_delay": pendulum.duration(minutes=5)}


@dag(
    dag_id="crm_report",
    schedule=CronTriggerTimetable("0 7 * * 1", timezone="Europe/Paris"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Paris"),
    catchup=False,
    max_active_runs=1,
    tags=["vivier", "report"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    params={
        "trend_weeks": Param(
            26,
            type="integer",
            minimum=1,
            maximum=520,
            title="Weeks of trends",
            description="How many weeks of pool sizes the trend chart shows.",
        ),
    },
)
def crm_report():
    @task
    def build_report() -> dict:
        """Figures as of the logical date -> the HTML report and its CSV files under data/reports/."""
        import pandas as pd

        from vivier.paths import data_dir
        from vivier.report import collect_figures, write_report
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of, run_id

        context = get_current_context()
        figures = collect_figures(
            crm_engine(), pd.Timestamp(run_as_of(context)), trend_weeks=int(context["params"]["trend_weeks"])
        )
        files = write_report(figures, data_dir() / "reports", generated_by=f"crm_report run {run_id(context)}")
        print(f"report: {files.html}")
        print(f"figures as CSV: {files.csv_folder} ({len(files.csv_files)} files)")
        for key, value in figures.headline.items():
            print(f"{key}: {value}")
        return {"html": str(files.html), "csv_folder": str(files.csv_folder), "headline": figures.headline}

    @task
    def note_run(report: dict) -> bool:
        """Link the report from the run's note (shown in the Airflow UI)."""
        from vivier.report.notes import run_note
        from vivier_airflow.run_notes import note_this_run

        return note_this_run(get_current_context(), run_note(report["html"], report["csv_folder"], report["headline"]))

    note_run(build_report())


crm_report()
