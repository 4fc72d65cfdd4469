"""
### Job offers in, skills tagged

Every night, takes the **new** job exports in the inbox (Greenhouse jobs, Lever postings,
Teamtailor jobs, Recruitee offers, Workable jobs; CSV/XLSX through a column mapping) and loads the
offers with their required and nice-to-have skills into the CRM (connection `crm_db`).

1. **find_new_job_files**: job files whose SHA-256 is not in `ingested_files` (candidate exports
   are left to `ats_ingest`).
2. **parse_and_validate** (one mapped task per file): the vendor adapter or the spreadsheet mapping,
   then the GX suite `include/gx/job_offers.json`. Failing offers go to `quarantine` with every
   reason; an unreadable file is quarantined whole and the others go on.
3. **build_offers**: status open/closed, ISO country and language, job family; skills from the
   ATS's explicit lists, else from the description (same taxonomy as people), required or nice.
4. **load**: one transaction (upserts: running twice leaves the same rows); emits
   `crm://job_offers` with counts, which triggers `match_job_offers`.

Per file: `rows_loaded + rows_quarantined = rows_read`. Only counts reach the logs and XCom.
Trigger with another folder: `airflow dags test job_offers_ingest -c '{"inbox": "/some/dir"}'`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, CronTriggerTimetable, Param, dag, get_current_context, task

JOB_OFFERS = Asset("crm://job_offers")
DEFAULT_ARGS = {"owner": "vivier", "retries": 2, "retry_delay": pendulum.duration(minutes=5)}


@dag(
    dag_id="job_offers_ingest",
    schedule=CronTriggerTimetable("30 2 * * *", timezone="Europe/Paris"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Paris"),
    catchup=False,
    max_active_runs=1,
    tags=["vivier", "ingestion", "matching"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    params={
        "inbox": Param(
            "",
            type="string",
            title="Inbox folder",
            description="Folder or object-storage URI of the job exports (s3://bucket/prefix). Empty: data/inbox/.",
        ),
    },
)
def job_offers_ingest():
    @task
    def find_new_job_files() -> list[dict]:
        """New job exports in the inbox (by content hash)."""
        from dataclasses import asdict

        from vivier.offers.files import find_new_job_files as find
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.inbox import run_inbox

        inbox = run_inbox(get_current_context())
        found = find(crm_engine(), inbox)
        print(f"{len(found)} new job file(s) in {inbox}")
        return [asdict(item) for item in found]

    @task(map_index_template="{{ file_name }}")
    def parse_and_validate(inbox_file: dict) -> dict:
        """Adapter + GX validation of one job file; stages valid offers and quarantine rows as Parquet."""
        import pandas as pd

        from vivier.ingest.pipeline import InboxFile
        from vivier.offers.pipeline import parse_and_validate as check
        from vivier.paths import data_dir
        from vivier_airflow.runs import run_as_of, run_folder

        context = get_current_context()
        context["file_name"] = inbox_file["file_name"]
        result = check(
            InboxFile(**inbox_file),
            staging_dir=run_folder(data_dir() / "staging", context),
            reports_dir=data_dir() / "reports",
            as_of=pd.Timestamp(run_as_of(context)),
        )
        print(
            f"{result.file_name}: read {result.rows_read}, valid {result.rows_valid}, "
            f"quarantined {result.rows_quarantined}" + (f" (file unreadable: {result.error})" if result.error else "")
        )
        return result.to_dict()

    @task
    def build_offers(results: list[dict]) -> dict:
        """Normalised offers of every file of the run, with their required and nice-to-have skills."""
        from vivier.offers.pipeline import build_offers as build
        from vivier.paths import data_dir
        from vivier_airflow.runs import run_folder

        context = get_current_context()
        batch = build(
            [r["valid_path"] for r in results if r["valid_path"]],
            staging_dir=run_folder(data_dir() / "staging", context),
        )
        print(f"{batch.offers} offer(s) with {batch.skills} skill(s)")
        return batch.to_dict()

    @task(outlets=[JOB_OFFERS])
    def load(results: list[dict], batch: dict) -> dict:
        """Write the run to the CRM in one transaction and report per-file accounting."""
        import shutil

        import pandas as pd

        from vivier.ingest.pipeline import FileResult
        from vivier.offers.load import load_offers
        from vivier.offers.pipeline import accounting
        from vivier.paths import data_dir
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of, run_folder, run_id

        context = get_current_context()
        files, quarantine = accounting([FileResult(**r) for r in results])
        counts = load_offers(
            crm_engine(),
            files=files,
            offers=pd.read_parquet(batch["offers_path"]),
            skills=pd.read_parquet(batch["skills_path"]),
            quarantine=quarantine,
            as_of=pd.Timestamp(run_as_of(context)),
            run_id=run_id(context),
        )
        for row in files.itertuples():
            print(
                f"{row.file_name} [{row.detected_format}]: read {row.rows_read}, loaded {row.rows_loaded}, "
                f"quarantined {row.rows_quarantined} -> {row.status}"
            )
        summary = counts.to_dict()
        print(f"offers: {summary}")
        context["outlet_events"][JOB_OFFERS].extra = summary
        shutil.rmtree(run_folder(data_dir() / "staging", context), ignore_errors=True)
        return summary

    checked = parse_and_validate.expand(inbox_file=find_new_job_files())
    load(checked, build_offers(checked))


job_offers_ingest()
