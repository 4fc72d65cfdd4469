"""
### ATS exports in, clean tagged people out

Every night, takes the **new** exports in the inbox (Greenhouse, Lever, Teamtailor, Recruitee,
Workable JSON; CSV/XLSX through a column mapping), validates them with Great Expectations, and
turns them into one person per email with their applications and tags in the CRM database
(connection `crm_db`).

1. **find_new_files**: files whose SHA-256 is not in `ingested_files` (re-dropping a file is a no-op;
   job files are left to `job_offers_ingest`).
2. **parse_and_validate** (one mapped task per file): the vendor adapter, then the GX suite
   `include/gx/applications.json`. Failing rows go to `quarantine` with every reason; an unreadable
   file is quarantined whole and the others go on. Reports: `data/reports/<sha>.html` and `.json`.
3. **normalise** (per file): emails, E.164 phones, names, ISO countries and languages, rejection side.
4. **build_people**: one person per email across files and vendors; erased people are not re-created;
   skills (FR/EN/DE/IT taxonomy), job family, seniority, stage reached, silver medalist.
5. **load**: everything in one transaction (upserts: running twice leaves the same rows), identity
   review suggestions, merges in `audit_log`; emits `crm://persons` with counts.

Per file: `rows_loaded + rows_quarantined = rows_read`. No personal data goes to logs or XCom.
Trigger with another folder: `airflow dags test ats_ingest -c '{"inbox": "/some/dir"}'`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, CronTriggerTimetable, Param, dag, get_current_context, task

PERSONS = Asset("crm://persons")
DEFAULT_ARGS = {"owner": "vivier", "retries": 2, "retry_delay": pendulum.duration(minutes=5)}


@dag(
    dag_id="ats_ingest",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="Europe/Paris"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Paris"),
    catchup=False,
    max_active_runs=1,
    tags=["vivier", "ingestion"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    params={
        "inbox": Param(
            "",
            type="string",
            title="Inbox folder",
            description="Folder or object-storage URI to ingest (s3://bucket/prefix). Empty: data/inbox/.",
        ),
    },
)
def ats_ingest():
    @task
    def find_new_files() -> list[dict]:
        """New candidate exports in the inbox (by content hash)."""
        from dataclasses import asdict

        from vivier.ingest.pipeline import find_new_files as find
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.inbox import run_inbox

        inbox = run_inbox(get_current_context())
        found = find(crm_engine(), inbox)
        print(f"{len(found)} new file(s) in {inbox}")
        return [asdict(item) for item in found]

    @task(map_index_template="{{ file_name }}")
    def parse_and_validate(inbox_file: dict) -> dict:
        """Adapter + GX validation of one file; stages valid rows and quarantine rows as Parquet."""
        from vivier.ingest.pipeline import InboxFile
        from vivier.ingest.pipeline import parse_and_validate as check
        from vivier.paths import data_dir
        from vivier_airflow.runs import run_as_of, run_folder

        context = get_current_context()
        context["file_name"] = inbox_file["file_name"]  # the mapped task's label in the UI
        result = check(
            InboxFile(**inbox_file),
            staging_dir=run_folder(data_dir() / "staging", context),
            reports_dir=data_dir() / "reports",
            as_of=run_as_of(context),
        )
        print(
            f"{result.file_name}: read {result.rows_read}, valid {result.rows_valid}, "
            f"quarantined {result.rows_quarantined}" + (f" (file unreadable: {result.error})" if result.error else "")
        )
        return result.to_dict()

    @task
    def normalise(result: dict) -> dict:
        """Normalised applications of one file (skipped for a file quarantined whole)."""
        from vivier.ingest.pipeline import normalise as normalise_file

        normalised = normalise_file(result["valid_path"]) if result["valid_path"] else None
        return {**result, "normalised_path": normalised}

    @task
    def build_people(results: list[dict]) -> dict:
        """One person per email across the run's files, suppressed people removed, tags computed."""
        from dataclasses import asdict

        from vivier.ingest.pipeline import build_people as build
        from vivier.paths import data_dir
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of, run_folder
        from vivier_airflow.secrets import suppression_key

        context = get_current_context()
        batch = build(
            crm_engine(),
            [r["normalised_path"] for r in results if r["normalised_path"]],
            staging_dir=run_folder(data_dir() / "staging", context),
            suppression_key=suppression_key(),
            as_of=run_as_of(context),
        )
        print(f"{batch.persons} persons from {batch.applications} applications; {batch.suppressed} suppressed")
        return asdict(batch)

    @task(outlets=[PERSONS])
    def load(results: list[dict], people: dict) -> dict:
        """Write the run to the CRM in one transaction and report per-file accounting."""
        import shutil
        from dataclasses import asdict

        import pandas as pd

        from vivier.ingest.load import load_ingestion
        from vivier.ingest.pipeline import FileResult, file_accounting
        from vivier.ingest.stages import StageMap
        from vivier.paths import data_dir
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of, run_folder, run_id

        context = get_current_context()
        file_results = [FileResult(**{k: v for k, v in r.items() if k != "normalised_path"}) for r in results]
        files, quarantine = file_accounting(file_results, pd.read_parquet(people["suppressed_path"]))
        counts = load_ingestion(
            crm_engine(),
            files=files,
            persons=pd.read_parquet(people["persons_path"]),
            applications=pd.read_parquet(people["applications_path"]),
            tags=pd.read_parquet(people["tags_path"]),
            quarantine=quarantine,
            as_of=pd.Timestamp(run_as_of(context)),
            run_id=run_id(context),
            silver_min_rank=StageMap.load().silver_medalist_min_rank,
        )
        for row in files.itertuples():
            print(
                f"{row.file_name} [{row.detected_format}]: read {row.rows_read}, loaded {row.rows_loaded}, "
                f"quarantined {row.rows_quarantined} -> {row.status}"
            )
        summary = asdict(counts)
        context["outlet_events"][PERSONS].extra = summary
        shutil.rmtree(run_folder(data_dir() / "staging", context), ignore_errors=True)
        return summary

    checked = parse_and_validate.expand(inbox_file=find_new_files())
    normalised = normalise.expand(result=checked)
    load(normalised, build_people(normalised))


ats_ingest()
