"""The task bodies the dispatch DAGs share (each DAG file keeps its schedule, params and wiring).

Called from inside ``@task`` functions: they read the running task's context themselves.
"""

from __future__ import annotations


def load_content_catalogue() -> dict:
    """The content catalogue files -> content_items (upsert; removed items retired)."""
    from dataclasses import asdict

    from airflow.sdk import get_current_context

    from vivier.dispatch.catalogue import load_catalogue, read_catalogue
    from vivier_airflow.crm import crm_engine
    from vivier_airflow.runs import run_as_of

    context = get_current_context()
    with crm_engine().begin() as connection:
        counts = load_catalogue(connection, read_catalogue(), run_as_of(context))
    print(f"content catalogue: {asdict(counts)}")
    return asdict(counts)


def plan_period(campaigns: list[str]) -> list[dict]:
    """Plan the campaigns of the run's period into the outbox (once per period)."""
    from airflow.sdk import get_current_context

    from vivier.dispatch.service import make_planner, plan_campaigns
    from vivier_airflow.crm import crm_engine
    from vivier_airflow.preference_centre import preference_centre_settings
    from vivier_airflow.runs import run_as_of, run_id
    from vivier_airflow.secrets import suppression_key

    context = get_current_context()
    base_url, keys = preference_centre_settings()
    planner = make_planner(base_url, keys, suppression_key())
    plans = plan_campaigns(crm_engine(), planner, campaigns, run_as_of(context), run_id(context))
    for result in plans:
        state = "planned now" if result["created"] else "already planned"
        counts = f"{result['planned']} messages, skipped {result['skipped']}"
        print(f"{result['campaign']} {result['period']} ({state}): {counts}")
    return plans


def deliver_planned(plans: list[dict]) -> dict:
    """Send the planned messages through smtp_default (or write .eml files in a dry run)."""
    from pathlib import Path

    from airflow.sdk import get_current_context

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
    print(dict(result.items()))
    return result


def report_batches(plans: list[dict]) -> list[dict]:
    """The batch record: who got which template version under which consent (counts only)."""
    from vivier.dispatch.service import batch_record, describe_record
    from vivier_airflow.crm import crm_engine

    records = batch_record(crm_engine(), [p["batch_id"] for p in plans if p["batch_id"]])
    for record in records:
        print("\n".join(describe_record(record)))
    return [
        {k: r[k] for k in ("campaign", "period", "messages", "sent", "failed", "unknown", "skipped")} for r in records
    ]
