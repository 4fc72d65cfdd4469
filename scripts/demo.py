"""`make demo`: generate a sample inbox, run the pipeline's DAGs in order, print a summary.

Runs each DAG for real with `airflow dags test` on the embedded default (SQLite CRM database,
SQLite Airflow metadata, LocalExecutor). Re-runnable: the tasks are idempotent, so a second demo
loads nothing twice.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "dags"))

# The pipeline, in order: a DAG run (`airflow dags test`) or a demo step between runs.
# A DAG whose file does not exist yet is left out.
PIPELINE: list[tuple[str, object]] = [
    ("dag", "crm_migrate"),
    ("dag", "ats_ingest"),
    ("dag", "pools_refresh"),
    ("step", "show_pools"),
    ("step", "unsubscribe_one_member_over_http"),
    ("dag", "pools_refresh"),
    ("step", "show_unsubscribed_member_left"),
    ("dag", "job_offers_ingest"),
    ("dag", "match_job_offers"),
    ("step", "show_top_matches"),
    ("step", "run_dispatch"),
    ("dag", "gdpr_retention"),
    ("step", "show_gdpr_report"),
    ("step", "pool_members_apply_again"),
    ("dag", "ats_ingest"),
    ("dag", "crm_report"),
    ("step", "show_crm_report"),
]
SAMPLE_SEED = 2026
SAMPLE_APPLICATIONS_PER_FORMAT = 300


def banner(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def generate_sample_inbox(inbox: Path) -> None:
    try:
        from vivier.synth import generate_inbox
    except ImportError:
        print("(the synthetic export generator is not installed yet: no sample inbox)")
        return
    inbox.mkdir(parents=True, exist_ok=True)
    summaries = generate_inbox(
        inbox, applications_per_format=SAMPLE_APPLICATIONS_PER_FORMAT, seed=SAMPLE_SEED, defects=0.03
    )
    for summary in summaries:
        print(f"  {Path(summary.path).name}: {summary.records} records")


def run_dag(dag_id: str, conf: dict) -> float:
    command = [str(Path(sys.executable).parent / "airflow"), "dags", "test", dag_id]
    if conf:
        command += ["--conf", json.dumps(conf)]
    started = time.perf_counter()
    log_path = ROOT / "data" / "demo-logs" / f"{dag_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy(), check=False)
    elapsed = time.perf_counter() - started
    log_lines = log_path.read_text(errors="replace").splitlines()
    finished = [line for line in log_lines if "DagRun Finished" in line]
    if result.returncode != 0 or not finished or "state=success" not in finished[-1]:
        print("\n".join(log_lines[-40:]))
        raise SystemExit(f"DAG {dag_id} failed (exit {result.returncode}); full log: {log_path}")
    print(f"  {dag_id}: success in {elapsed:.1f}s (log: {log_path.relative_to(ROOT)})")
    return elapsed


DEMO_STATE: dict[str, object] = {}


def show_pools() -> None:
    """Pool sizes after the refresh (members all have current consent)."""
    import sqlalchemy as sa

    from vivier_airflow.crm import crm_engine

    engine = crm_engine()
    with engine.connect() as connection:
        sizes = connection.execute(
            sa.text(
                "SELECT p.name, COUNT(m.person_id) AS size FROM pools AS p "
                "LEFT JOIN pool_members AS m ON m.pool_id = p.pool_id AND m.left_at IS NULL "
                "WHERE p.is_active GROUP BY p.name ORDER BY size DESC, p.name"
            )
        ).all()
        consented = connection.execute(
            sa.text("SELECT purpose, COUNT(*) FROM consent_current WHERE is_active GROUP BY purpose ORDER BY purpose")
        ).all()
    engine.dispose()
    banner("Talent pools (only people with current consent)")
    print("  current consent: " + ", ".join(f"{purpose} {count}" for purpose, count in consented))
    for name, size in sizes:
        print(f"  {name:<24} {size:>6} members")


def unsubscribe_one_member_over_http() -> None:
    """A pool member clicks one-click unsubscribe in their mail client: a real POST to the preference centre."""
    import sqlalchemy as sa

    from vivier.preferences.demo import unsubscribe_over_http
    from vivier_airflow.crm import crm_engine, crm_url

    engine = crm_engine()
    with engine.connect() as connection:
        member = connection.execute(
            sa.text(
                "SELECT m.person_id, COUNT(*) AS pools FROM pool_members AS m "
                "WHERE m.left_at IS NULL GROUP BY m.person_id ORDER BY pools DESC, m.person_id LIMIT 1"
            )
        ).first()
    engine.dispose()
    if member is None:
        print("  (no pool member to unsubscribe)")
        return
    status = unsubscribe_over_http(crm_url(), member.person_id)
    DEMO_STATE["unsubscribed"] = (member.person_id, member.pools)
    banner("One-click unsubscribe over HTTP (RFC 8058)")
    print(f"  person {member.person_id}, member of {member.pools} pool(s): POST List-Unsubscribe=One-Click -> {status}")


def show_unsubscribed_member_left() -> None:
    import sqlalchemy as sa

    from vivier_airflow.crm import crm_engine

    if "unsubscribed" not in DEMO_STATE:
        return
    person_id, before = DEMO_STATE["unsubscribed"]
    engine = crm_engine()
    with engine.connect() as connection:
        now = connection.execute(
            sa.text("SELECT COUNT(*) FROM pool_members WHERE person_id = :p AND left_at IS NULL"), {"p": person_id}
        ).scalar_one()
        left = connection.execute(
            sa.text("SELECT COUNT(*) FROM pool_members WHERE person_id = :p AND left_at IS NOT NULL"), {"p": person_id}
        ).scalar_one()
    engine.dispose()
    print(
        f"  after the next pools_refresh, person {person_id} is in {now} pool(s) (was {before}; {left} stay(s) ended)"
    )


def show_gdpr_report() -> None:
    reports = sorted((ROOT / "data" / "reports").glob("gdpr-*.json"))
    if not reports:
        return
    report = json.loads(reports[-1].read_text(encoding="utf-8"))
    banner(f"GDPR retention ({reports[-1].relative_to(ROOT)})")
    for key in ("persons_erased", "consents_expired", "explanations_cleared", "notices_planned", "consented_persons",
                "requests_open", "requests_overdue"):  # fmt: skip
        print(f"  {key:<24} {report[key]:>6}")


def show_top_matches() -> None:
    """For the newest open offer: its skills and the top candidates with matched and missing skills."""
    from vivier.matching.summary import demo_lines
    from vivier_airflow.crm import crm_engine

    engine = crm_engine()
    lines = demo_lines(engine)
    engine.dispose()
    banner("Matching: the best people for a new job offer")
    for line in lines:
        print(f"  {line}")


SMTP_SINK_PORT = 8025
# The sample's rejections span the months before the generator's date: look back over all of them.
REJECTION_LOOKBACK_DAYS = 92


def run_dispatch() -> None:
    """The four dispatch DAGs against a local SMTP sink: what each kind of person received, and the .eml files."""
    from vivier.dispatch.demo import start_sink, stop_sink, summary_lines
    from vivier.paths import data_dir
    from vivier_airflow.crm import crm_engine

    dags = ("rejection_feedback", "dispatch_weekly", "dispatch_monthly", "dispatch_quarterly")
    sink_folder = data_dir() / "outbox-sink"
    os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": SMTP_SINK_PORT,
            "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "talent@vivier.example"},
        }
    )
    banner(f"Email dispatch (local SMTP sink 127.0.0.1:{SMTP_SINK_PORT}, .eml files in {sink_folder})")
    sink = start_sink(sink_folder, port=SMTP_SINK_PORT)
    try:
        for dag_id in dags:
            conf = {"lookback_days": REJECTION_LOOKBACK_DAYS} if dag_id == "rejection_feedback" else {}
            run_dag(dag_id, conf)
    finally:
        stop_sink(sink)
    engine = crm_engine()
    for line in summary_lines(engine, sink_folder):
        print(f"  {line}")
    engine.dispose()
    print(f"  Open any .eml in {sink_folder} with a mail client; `vivier preview TEMPLATE` renders one template.")


def pool_members_apply_again() -> None:
    """Some pool members apply again, and three are hired: a follow-up export for the next ats_ingest."""
    import pandas as pd

    from vivier.synth.returning import write_returning_applications
    from vivier_airflow.crm import crm_engine

    engine = crm_engine()
    path = ROOT / "data" / "inbox" / "greenhouse-returning-pool-members.json"
    count = write_returning_applications(engine, path, pd.Timestamp.now(tz="UTC").floor("s"))
    engine.dispose()
    banner("Pool members apply again (the outcome the talent pools exist for)")
    print(f"  {path.relative_to(ROOT)}: {count} pool members apply to open offers, 3 of them are hired")


def show_crm_report() -> None:
    reports = sorted((ROOT / "data" / "reports").glob("crm-report-*.html"))
    if not reports:
        return
    folder = reports[-1].with_suffix("")
    banner("Weekly CRM report")
    print(f"  {reports[-1]} (self-contained: open it in a browser)")
    print(f"  figures as CSV: {folder.relative_to(ROOT)}/ ({len(list(folder.glob('*.csv')))} files)")
    returning = folder / "returning_by_pool.csv"
    if returning.exists():
        import csv

        with returning.open(encoding="utf-8") as handle:
            for row in list(csv.DictReader(handle))[:5]:
                print(f"  {row['pool']:<24} re-applications {row['reapplications']:>3}, hires {row['hires']:>2}")


STEPS = {
    "pool_members_apply_again": pool_members_apply_again,
    "show_crm_report": show_crm_report,
    "run_dispatch": run_dispatch,
    "show_top_matches": show_top_matches,
    "show_pools": show_pools,
    "unsubscribe_one_member_over_http": unsubscribe_one_member_over_http,
    "show_unsubscribed_member_left": show_unsubscribed_member_left,
    "show_gdpr_report": show_gdpr_report,
}


def print_summary() -> None:
    import sqlalchemy as sa

    from vivier.db.schema import ingested_files, metadata, person_tags, persons
    from vivier_airflow.crm import crm_engine

    engine = crm_engine()
    with engine.connect() as connection:
        files = connection.execute(sa.select(ingested_files).order_by(ingested_files.c.file_id)).all()
        if files:
            banner("Ingested files (read = loaded + quarantined)")
            print(f"  {'file':<34} {'format':<11} {'read':>6} {'loaded':>7} {'quarantined':>12}  status")
            for f in files:
                print(
                    f"  {f.file_name:<34} {f.detected_format or '-':<11} {f.rows_read:>6} {f.rows_loaded:>7} "
                    f"{f.rows_quarantined:>12}  {f.status}"
                )
            silver = connection.execute(
                sa.select(sa.func.count()).select_from(persons).where(persons.c.is_silver_medalist)
            ).scalar_one()
            top_skills = connection.execute(
                sa.select(person_tags.c.value, sa.func.count().label("n"))
                .where(person_tags.c.kind == "skill")
                .group_by(person_tags.c.value)
                .order_by(sa.desc("n"), person_tags.c.value)
                .limit(8)
            ).all()
            print(f"\n  silver medalists: {silver}")
            print("  most common skills: " + ", ".join(f"{skill} ({n})" for skill, n in top_skills))
        banner(f"CRM database {engine.url.render_as_string(hide_password=True)}")
        for table in metadata.sorted_tables:
            count = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            print(f"  {table.name:<20} {count:>8} rows")
        print(f"\n  Validation reports: {ROOT / 'data' / 'reports'} (one HTML + JSON per file)")
    engine.dispose()


def main() -> int:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    started = time.perf_counter()
    inbox = ROOT / "data" / "inbox"
    banner(f"Sample ATS exports -> {inbox.relative_to(ROOT)}")
    generate_sample_inbox(inbox)
    banner("Running the pipeline with `airflow dags test`")
    for kind, name in PIPELINE:
        if kind == "step":
            STEPS[name]()
        elif (ROOT / "dags" / f"{name}.py").exists():
            run_dag(name, {})
    print_summary()
    print(f"\nDemo finished in {time.perf_counter() - started:.0f}s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
